using AgentWorker;
using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Batches;
using AgentWorker.Jobs.Hangfire;
using AgentWorker.Jobs.Hosting;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Maintenance;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Telemetry;
using AgentWorker.Jobs.Tools;
using AgentWorker.Jobs.Tools.Mcp;
using Hangfire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The front door of the agent worker: <see cref="AddAgentTasks"/> for a process that enqueues and reads tasks,
/// <see cref="AddAgentWorker"/> for one that also runs them. Everything is registered with <c>TryAdd</c>, so a host's
/// own <see cref="TimeProvider"/>, logging and meters win, and calling either twice registers nothing twice.
/// </summary>
public static class AgentWorkerServiceCollectionExtensions
{
    /// <summary>
    /// The App database (<c>ConnectionStrings:App</c>), the schema on start (<see cref="SchemaOptions"/>), and the
    /// clients: <see cref="ITaskClient"/>, <see cref="IBatchClient"/> and <see cref="IAgentClient"/>. Runs no task.
    /// </summary>
    public static IServiceCollection AddAgentTasks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var app = AppConnectionString(configuration);
        if (services.Any(d => d.ServiceType == typeof(AppConnection)))
        {
            return services;
        }
        services.AddSingleton(new AppConnection(app));
        services.TryAddKeyedSingleton(AppDatabase.Key, (_, _) => NpgsqlDataSource.Create(AppDatabase.ForPool(app)));
        services.TryAddKeyedSingleton(AppDatabase.ListenKey, (_, _) => NpgsqlDataSource.Create(AppDatabase.ForListening(app)));
        services.TryAddSingleton(sp => new MigrationRunner(
            sp.GetRequiredKeyedService<NpgsqlDataSource>(AppDatabase.Key),
            sp.GetRequiredService<Logging.ILogger<MigrationRunner>>(),
            [HangfireStorage.Schema]));
        services.AddOptions<SchemaOptions>().Bind(configuration.GetSection(RunOptions.SectionName));
        // First of the hosted services: hosted services start in registration order.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SchemaOnStart>());
        services.TryAddSingleton(new DefaultModel(configuration[$"{LlmOptions.SectionName}:{nameof(LlmOptions.Model)}"]));
        services.TryAddSingleton<ITaskClient, TaskClient>();
        services.TryAddSingleton<IBatchClient, BatchClient>();
        services.TryAddSingleton<IAgentClient, AgentClient>();
        services.TryAddSingleton(new ServiceInstance(ProcessInstance.Id));
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// Everything a safe worker needs, in the order it starts: the schema (as <see cref="AddAgentTasks"/>), then the
    /// check that refuses to start when the tools' database login could write, then the run executor with its socket
    /// pool, tools and Hangfire mirror, batches, schedules and retention, and a Hangfire server for the worker's
    /// control queues (<see cref="IAgentWorkerBuilder.ControlQueues"/>). The host configures Hangfire itself, with
    /// <c>UseAgentStorage</c> when it has no storage of its own, and <c>UseAgentWorker</c> in either case.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">Where <c>ConnectionStrings</c>, <c>Llm</c>, <c>Tools</c>, <c>Worker</c> ... are read.</param>
    /// <param name="configure">Adds tools, model clients and options; runs before the worker's own registrations.</param>
    public static IAgentWorkerBuilder AddAgentWorker(this IServiceCollection services, IConfiguration configuration,
        Action<IAgentWorkerBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(AgentWorkerBuilder))?.ImplementationInstance;
        if (existing is AgentWorkerBuilder registered)
        {
            configure?.Invoke(registered);
            return registered;
        }
        var builder = new AgentWorkerBuilder(services, configuration, [AgentTaskJob.ControlQueue]);
        services.AddSingleton(builder);
        services.AddSingleton<AgentWorkerMarker>();
        configure?.Invoke(builder);

        services.AddAgentTasks(configuration);
        services.AddValidated<LlmOptions>(configuration, LlmOptions.SectionName);
        services.AddValidated<ToolsOptions>(configuration, ToolsOptions.SectionName);
        services.AddValidated<AgentOptions>(configuration, AgentOptions.SectionName);
        services.AddValidated<RunOptions>(configuration, RunOptions.SectionName);
        services.TryAddSingleton(sp =>
        {
            var tools = sp.GetRequiredService<IOptions<ToolsOptions>>().Value;
            var connectionString = TargetDatabase.ResolveConnectionString(
                configuration.GetConnectionString("Target"), AppConnectionString(configuration), tools);
            return new TargetDatabase(connectionString, tools);
        });
        // Second: nothing that could hand the model a writable login starts before this refused it.
        // Built before the hosted services after it, several of which need Hangfire's services: a missing AddHangfire is
        // said in one sentence rather than as an unresolvable IRecurringJobManager.
        services.AddHostedService(sp => sp.GetService<JobStorage>() is null
            ? throw new InvalidOperationException(WorkerStartChecks.HangfireMissing)
            : ActivatorUtilities.CreateInstance<WorkerStartChecks>(sp));
        services.TryAddSingleton<ReaderLoginState>();

        services.TryAddSingleton<ISocketConnector, WebSocketConnector>();
        services.TryAddSingleton<SocketPool>();
        services.AddHostedService(Built<SocketPoolMaintenance>);
        services.TryAddSingleton<SocketPoolMetrics>();
        // The meters come from IMeterFactory: a generic host registers it, a bare ServiceCollection gets it here.
        services.AddMetrics();
        services.TryAddSingleton<RunMetrics>();
        // One long-lived client; pooled connections are renewed so DNS changes are seen.
        services.TryAddSingleton(sp => new HttpResponsesClient(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<IOptions<LlmOptions>>()));
        services.TryAddSingleton<TurnRetries>();
        services.TryAddSingleton<ModelClient>();
        services.TryAddSingleton<ModelTurnMetrics>();
        services.TryAddSingleton<ModelRouter>();
        services.TryAddSingleton<IModelPort>(sp => new TracedModelPort(sp.GetRequiredService<ModelRouter>(), sp.GetRequiredService<ModelTurnMetrics>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlmOptions>, ModelClientsValidation>());
        services.TryAddSingleton<ReadOnlySql>();
        // The database tools: read-only AIFunctions like any other tool, beside what the builder added.
        services.TryAddSingleton<ListTablesTool>();
        services.TryAddSingleton<DescribeTableTool>();
        services.TryAddSingleton<QueryTool>();
        services.AddSingleton(new ToolRegistration(sp =>
        {
            // Bounded by their own statement_timeout first: the call's timeout comes on top of it, never before it.
            var limits = sp.GetRequiredService<IOptions<ToolsOptions>>().Value;
            var timeout = limits.StatementTimeout + limits.CallTimeout;
            return new IAgentTool[]
                {
                    sp.GetRequiredService<ListTablesTool>(), sp.GetRequiredService<DescribeTableTool>(), sp.GetRequiredService<QueryTool>(),
                }
                .Select(t => RegisteredTool.Create(new DatabaseToolFunction(t), null, ToolSideEffects.ReadOnly, timeout, "database", scoped: false));
        }));
        AgentWorkerMcpExtensions.AddConfiguredMcpServers(services, configuration);
        services.TryAddSingleton<ToolCatalog>();
        services.TryAddSingleton<ToolRegistry>();
        services.TryAddSingleton<ToolMetrics>();
        services.TryAddSingleton<IToolRegistry>(sp => new TracedToolRegistry(
            sp.GetRequiredService<ToolRegistry>(), sp.GetRequiredService<ToolMetrics>(), sp.GetRequiredService<TargetDatabase>()));
        services.TryAddSingleton<AgentLoop>();
        services.TryAddSingleton<ModelWaits>();
        services.TryAddSingleton<RunStore>();
        services.TryAddTransient<AgentTaskJob>();
        // The mirror first: hosted services stop in reverse order, so it still writes what the executor's shutdown reports.
        services.TryAddSingleton<HangfireMirror>();
        services.AddHostedService(sp => sp.GetRequiredService<HangfireMirror>());
        services.TryAddSingleton<IRunObserver>(sp => sp.GetRequiredService<HangfireMirror>());
        // One LISTEN connection for the process: the executor and the batch services subscribe to it.
        services.TryAddSingleton<ProcessNotifier>();
        services.TryAddSingleton<IProcessNotifier>(sp => sp.GetRequiredService<ProcessNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<ProcessNotifier>());
        services.TryAddSingleton<RunCapacity>();
        services.TryAddSingleton<TaskRunner>();
        services.TryAddSingleton<RunCompleter>();
        services.TryAddSingleton<RunExecutor>();
        // Before the executor: its first runs see the MCP servers that answered within their start timeout.
        services.AddHostedService(sp => sp.GetRequiredService<McpServers>());
        services.AddHostedService(sp => sp.GetRequiredService<RunExecutor>());

        // The configuration's agents (Agents__<name>__...), written before the schedules that may name them.
        services.TryAddSingleton(_ => ConfiguredAgents.Read(configuration));
        services.AddHostedService(Built<ConfiguredAgentSync>);

        services.AddValidated<BatchOptions>(configuration, BatchOptions.SectionName);
        services.AddOptions<BatchOptions>().Configure<IOptions<RunOptions>>((batches, runs) => batches.PollInterval = runs.Value.PollInterval);
        services.TryAddSingleton(new ConfiguredSchedules(
            configuration.GetSection("Schedules").Get<Dictionary<string, ScheduleDefinition>>() ?? []));
        services.TryAddSingleton<BatchSignals>();
        services.TryAddSingleton<ScheduleStore>();
        services.TryAddTransient<ScheduleJob>();
        services.AddHostedService(Built<BatchExpander>);
        services.AddHostedService(Built<ScheduleSync>);
        // The MCP servers' states on the workers page (name, status, why it is down, tools).
        services.AddSingleton(sp => new WorkerStatsSection("mcp", () => sp.GetRequiredService<McpServers>().States()
            .Select(s => new { name = s.Name, status = s.Status, error = s.Error, tools = s.Tools }).ToList()));
        services.AddHostedService(Built<WorkerStatsPublisher>);
        services.AddValidated<RetentionOptions>(configuration, RetentionOptions.SectionName);
        services.TryAddTransient<RetentionSweep>();
        services.TryAddTransient<RetentionJob>();
        services.AddHostedService(Built<RetentionSchedule>);

        // Last: the Hangfire server for control jobs (a few workers; agent runs are on the executor).
        services.AddHangfireServer((sp, server) =>
        {
            server.Queues = [.. builder.ControlQueues];
            server.WorkerCount = sp.GetRequiredService<IOptions<RunOptions>>().Value.ControlWorkers;
            server.ServerName = "control:" + Environment.MachineName + ":" + Environment.ProcessId;
        });
        return builder;
    }

    /// <summary>Options bound from <paramref name="section"/> of the given configuration, validated on start naming the keys.</summary>
    private static void AddValidated<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(new KeyedValidation<TOptions>(section)));
    }

    /// <summary>
    /// A hosted service built by a factory: the container builds factories in order when the host starts, so the check
    /// before them speaks first, where a constructor registration's missing dependency would fail them all at once.
    /// </summary>
    private static T Built<T>(IServiceProvider services) where T : IHostedService => ActivatorUtilities.CreateInstance<T>(services);

    /// <summary><c>ConnectionStrings:App</c>, or a start-up failure that says how to set it.</summary>
    public static string AppConnectionString(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
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
