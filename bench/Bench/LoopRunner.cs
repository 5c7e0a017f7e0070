using System.Diagnostics;
using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Bench;

/// <summary>
/// Runs tasks through the real agent loop (socket pool, tools, step storage) without the executor in between, so the
/// measured time is the run itself.
/// </summary>
internal sealed class LoopRunner : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public LoopRunner(BenchDatabase db, Uri simulator, ModelTransport transport, int maxSockets = 64)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:App"] = db.ConnectionString,
            ["ConnectionStrings:Target"] = db.ReaderConnectionString,
            ["Tools:Schemas"] = "shop",
            ["Llm:BaseUrl"] = simulator.AbsoluteUri,
            ["Llm:ApiKey"] = "sim-key",
            ["Llm:Model"] = "sim-1",
            ["Llm:Transport"] = transport.ToString(),
            ["Llm:MaxSockets"] = maxSockets.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)).AddSingleton<IConfiguration>(config);
        services.AddAgentWorker(config);
        _services = services.BuildServiceProvider();
    }

    public SocketPool Pool => _services.GetRequiredService<SocketPool>();

    /// <summary>Enqueues, claims and runs one task; returns its wall time in ms (the run only).</summary>
    public async Task<(double WallMs, long Id)> RunAsync(string prompt, CancellationToken cancellationToken)
    {
        var client = _services.GetRequiredService<ITaskClient>();
        var id = await client.EnqueueAsync(new EnqueueRequest { Prompt = prompt, MaxSteps = 50, RunAt = TimeProvider.System.GetUtcNow().AddYears(50) },
            cancellationToken);
        // run_at far ahead keeps any executor away: the loop runs here, its steps stored as in a real run.
        var task = new AgentTask { Id = id, Prompt = prompt, MaxSteps = 50, Attempt = 1, LastSeq = 0 };
        var loop = _services.GetRequiredService<AgentLoop>();
        var started = Stopwatch.GetTimestamp();
        var outcome = await loop.RunAsync(task, Checkpoint.Empty, _services.GetRequiredService<RunStore>(), cancellationToken);
        var wall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (outcome.Status != TaskStatuses.Succeeded)
        {
            throw new InvalidOperationException($"task {id} {outcome.Status}: {outcome.ErrorMessage}");
        }
        return (wall, id);
    }

    public async ValueTask DisposeAsync()
    {
        await Pool.DisposeAsync();
        await _services.DisposeAsync();
    }
}
