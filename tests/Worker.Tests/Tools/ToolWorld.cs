using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Tests.Tools;

/// <summary>
/// The real agent loop with the tools a test adds on the worker builder: a fresh database, the simulator as the model,
/// steps and the call journal stored by the real run store. No executor runs: a test runs (and resumes) each task
/// itself, so it decides where a run stops.
/// </summary>
internal sealed class ToolWorld : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ToolWorld(TestDatabase database, SimulatorHost simulator, ServiceProvider services)
    {
        Database = database;
        Simulator = simulator;
        _services = services;
    }

    public TestDatabase Database { get; }

    public SimulatorHost Simulator { get; }

    public IServiceProvider Services => _services;

    public static async Task<ToolWorld> StartAsync(Action<IAgentWorkerBuilder> tools, IDictionary<string, string?>? settings = null)
    {
        var server = await TestContext.Current.GetFixture<PostgresServer>()
            ?? throw new InvalidOperationException("The PostgresServer assembly fixture is missing.");
        var database = await server.CreateDatabaseAsync();
        var simulator = await SimulatorHost.StartAsync();
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:App"] = database.ConnectionString,
            ["ConnectionStrings:Target"] = database.ReaderConnectionString,
            ["Tools:Schemas"] = "shop",
            ["Llm:BaseUrl"] = simulator.BaseUrl.AbsoluteUri,
            ["Llm:ApiKey"] = SimulatorHost.ApiKey,
            ["Llm:Model"] = "sim-1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var config = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)).AddSingleton<IConfiguration>(config);
        services.AddAgentWorker(config, tools);
        return new ToolWorld(database, simulator, services.BuildServiceProvider());
    }

    /// <summary>A task that no executor would claim (due in 50 years): the test runs it.</summary>
    public Task<long> EnqueueAsync(string prompt) => _services.GetRequiredService<ITaskClient>().EnqueueAsync(
        new EnqueueRequest { Prompt = prompt, MaxSteps = 10, RunAt = TimeProvider.System.GetUtcNow().AddYears(50) },
        TestContext.Current.CancellationToken);

    /// <summary>Runs attempt <paramref name="attempt"/> of the task from its stored checkpoint, offering <paramref name="tools"/>.</summary>
    public async Task<TaskOutcome> RunAsync(long id, string prompt, IReadOnlyList<string> tools, int attempt, CancellationToken cancellationToken)
    {
        var store = _services.GetRequiredService<RunStore>();
        var lastSeq = await Database.ScalarAsync<int>("select coalesce(max(seq), 0) from agent.steps where task_id = @id", new { id });
        var checkpoint = lastSeq > 0 ? await store.LoadCheckpointAsync(id, cancellationToken) : Checkpoint.Empty;
        var task = new AgentTask { Id = id, Prompt = prompt, MaxSteps = 10, Attempt = attempt, LastSeq = lastSeq, ToolPatterns = [.. tools] };
        return await _services.GetRequiredService<AgentLoop>().RunAsync(task, checkpoint, store, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Simulator.DisposeAsync();
        await Database.DisposeAsync();
    }
}
