using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Batches;
using AgentWorker.Jobs.Hangfire;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Maintenance;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Telemetry;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Hosting;

public static class AgentJobsServiceCollectionExtensions
{
    /// <summary>
    /// The App database (keyed <see cref="NpgsqlDataSource"/> "app"), migrations and the <see cref="ITaskClient"/>:
    /// everything a process needs to enqueue and read tasks.
    /// </summary>
    public static IServiceCollection AddAgentTasks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var app = AppConnectionString(configuration);
        services.AddKeyedSingleton(AppDatabase.Key, (_, _) => NpgsqlDataSource.Create(AppDatabase.ForPool(app)));
        services.AddKeyedSingleton(AppDatabase.ListenKey, (_, _) => NpgsqlDataSource.Create(AppDatabase.ForListening(app)));
        services.AddSingleton(sp => new MigrationRunner(
            sp.GetRequiredKeyedService<NpgsqlDataSource>(AppDatabase.Key),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<MigrationRunner>>(),
            [HangfireStorage.Schema]));
        services.AddSingleton(new DefaultModel(configuration[$"{LlmOptions.SectionName}:{nameof(LlmOptions.Model)}"]));
        services.AddSingleton<ITaskClient, TaskClient>();
        services.AddSingleton<IBatchClient, BatchClient>();
        services.AddSingleton<Readiness>();
        services.AddSingleton(new ServiceInstance(ProcessInstance.Id));
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// Everything that runs tasks: options, socket pool, tools, loop, the run executor and the Hangfire mirror. The host
    /// adds Hangfire itself (storage, and a server with <see cref="RunOptions.ControlWorkers"/> workers for control jobs).
    /// </summary>
    public static IServiceCollection AddAgentWorker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddAgentTasks(configuration);
        services.AddOptions<LlmOptions>().BindConfiguration(LlmOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ToolsOptions>().BindConfiguration(ToolsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RunOptions>().BindConfiguration(RunOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<ISocketConnector, WebSocketConnector>();
        services.AddSingleton<SocketPool>();
        services.AddHostedService<SocketPoolMaintenance>();
        services.AddSingleton<SocketPoolMetrics>();
        // The meters come from IMeterFactory: a generic host registers it, a bare ServiceCollection gets it here.
        services.AddMetrics();
        services.AddSingleton<AgentMetrics>();
        services.AddSingleton<RunMetrics>();
        // One long-lived client; pooled connections are renewed so DNS changes are seen.
        services.AddSingleton(sp => new HttpResponsesClient(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<IOptions<LlmOptions>>()));
        services.AddSingleton<ModelClient>();
        services.AddSingleton(sp =>
        {
            var tools = sp.GetRequiredService<IOptions<ToolsOptions>>().Value;
            var connectionString = TargetDatabase.ResolveConnectionString(
                configuration.GetConnectionString("Target"), AppConnectionString(configuration), tools);
            return new TargetDatabase(connectionString, tools);
        });
        services.AddSingleton<ReadOnlySql>();
        services.AddSingleton<IAgentTool, ListTablesTool>();
        services.AddSingleton<IAgentTool, DescribeTableTool>();
        services.AddSingleton<IAgentTool, QueryTool>();
        services.AddSingleton<ToolRegistry>();
        services.AddSingleton<AgentLoop>();
        services.AddSingleton<ModelWaits>();
        services.AddSingleton<RunStore>();
        services.AddTransient<AgentTaskJob>();
        // The mirror first: hosted services stop in reverse order, so it still writes what the executor's shutdown reports.
        services.AddSingleton<HangfireMirror>();
        services.AddHostedService(sp => sp.GetRequiredService<HangfireMirror>());
        services.AddSingleton<IRunObserver>(sp => sp.GetRequiredService<HangfireMirror>());
        // One LISTEN connection for the process: the executor and the batch services subscribe to it.
        services.AddSingleton<ProcessNotifier>();
        services.AddSingleton<IProcessNotifier>(sp => sp.GetRequiredService<ProcessNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<ProcessNotifier>());
        services.AddSingleton<RunCapacity>();
        services.AddSingleton<TaskRunner>();
        services.AddSingleton<RunCompleter>();
        services.AddSingleton<RunExecutor>();
        services.AddHostedService(sp => sp.GetRequiredService<RunExecutor>());

        services.AddOptions<BatchOptions>().BindConfiguration(BatchOptions.SectionName)
            .Configure<IOptions<RunOptions>>((batches, runs) => batches.PollInterval = runs.Value.PollInterval)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(new ConfiguredSchedules(
            configuration.GetSection("Schedules").Get<Dictionary<string, ScheduleDefinition>>() ?? []));
        services.AddSingleton<BatchSignals>();
        services.AddSingleton<ScheduleStore>();
        services.AddTransient<ScheduleJob>();
        services.AddHostedService<BatchExpander>();
        services.AddHostedService<ScheduleSync>();
        services.AddHostedService<WorkerStatsPublisher>();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddTransient<RetentionSweep>();
        services.AddTransient<RetentionJob>();
        services.AddHostedService<RetentionSchedule>();
        services.AddSingleton<IReadinessCheck, ModelEndpointCheck>();
        services.AddSingleton<IReadinessCheck, ReaderLoginReadiness>();
        return services;
    }

    /// <summary><c>ConnectionStrings:App</c>, or a start-up failure that says how to set it.</summary>
    public static string AppConnectionString(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString("App");
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:App is not set. Set the environment variable ConnectionStrings__App to the PostgreSQL "
                + "connection string for the queue and results, e.g. 'Host=127.0.0.1;Port=5432;Database=agent;Username=agent'.");
        }
        try
        {
            _ = new NpgsqlConnectionStringBuilder(value);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"ConnectionStrings:App is not a valid PostgreSQL connection string: {ex.Message}", ex);
        }
        return value;
    }
}
