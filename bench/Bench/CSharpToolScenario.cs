using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Bench;

/// <summary>
/// What the worker adds to a registered C# tool's call: the same function called through the tool registry as the
/// agent loop calls it (<see cref="IToolRegistry.InvokeAsync"/>: the span and metrics, the selection, JSON parsing and the
/// argument check against its schema, the call's context, its own DI scope on the thread pool, the timeout, the output
/// formatting) against called directly, interleaved call by call. A tool with side effects adds the journal's start
/// (one insert into <c>agent.tool_calls</c> before the call; "finished" rides on the step's own insert). Beside it, the
/// database tool's overhead over the bare query (<see cref="OverheadScenario"/>).
/// </summary>
internal static class CSharpToolScenario
{
    public sealed record Result(
        int Calls, double DirectP50, double DirectP99, double OverheadP50, double OverheadP99,
        int JournaledCalls, double JournaledP50, double JournaledP99, OverheadScenario.Result Database);

    /// <summary>The tool: what a host would register (a lookup that formats its answer), its own time a few microseconds.</summary>
    [Description("Looks an order up.")]
    private static Task<string> Lookup([Description("The order, such as o-17.")] string order, ToolCallContext call, CancellationToken cancellationToken) =>
        Task.FromResult(string.Create(CultureInfo.InvariantCulture, $"Order {order}: shipped, 3 items (call {call.CallId})."));

    public static async Task<Result> RunAsync(BenchDatabase db, bool smoke)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:App"] = db.ConnectionString,
            ["ConnectionStrings:Target"] = db.ReaderConnectionString,
            ["Tools:Schemas"] = "shop",
            ["Llm:BaseUrl"] = "http://127.0.0.1:9/v1",
            ["Llm:Model"] = "sim-1",
        }).Build();
        var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)).AddSingleton<IConfiguration>(config);
        services.AddAgentWorker(config, worker => worker
            .AddTool(Lookup, "lookup", options: new AgentToolOptions { SideEffects = ToolSideEffects.ReadOnly })
            .AddTool(Lookup, "lookup_journaled", options: new AgentToolOptions { SideEffects = ToolSideEffects.SideEffects }));
        await using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<IToolRegistry>();
        var selection = registry.Select(["lookup", "lookup_journaled"]);
        var store = provider.GetRequiredService<RunStore>();
        // The journal's rows belong to a task: one far in the future, which no executor takes.
        var taskId = await provider.GetRequiredService<ITaskClient>().EnqueueAsync(
            new EnqueueRequest { Prompt = "bench", RunAt = TimeProvider.System.GetUtcNow().AddYears(50) }, CancellationToken.None);

        var calls = smoke ? 500 : 20_000;
        var direct = new List<double>(calls);
        var registered = new List<double>(calls);
        // Warm-up (JIT, the thread pool, the selection's caches), then the samples, the two ways in turn.
        for (var i = -2_000; i < calls; i++)
        {
            var callId = "call_" + i.ToString(CultureInfo.InvariantCulture);
            var order = "o-" + (i & 127).ToString(CultureInfo.InvariantCulture);
            var context = new ToolCallContext(taskId, 1, callId, "lookup", null);
            var started = Stopwatch.GetTimestamp();
            _ = await Lookup(order, context, CancellationToken.None);
            var directMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var call = new ToolCall(callId, "lookup", "{\"order\":\"" + order + "\"}");
            started = Stopwatch.GetTimestamp();
            var result = await registry.InvokeAsync(selection, call, context, CancellationToken.None);
            var registeredMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (result.IsError)
            {
                throw new InvalidOperationException("lookup failed: " + result.Output);
            }
            if (i >= 0)
            {
                direct.Add(directMs);
                registered.Add(registeredMs);
            }
        }

        // With side effects: the journal's start as the agent loop writes it, before the call.
        var journaledCalls = smoke ? 100 : 2_000;
        var journaled = new List<double>(journaledCalls);
        for (var i = -200; i < journaledCalls; i++)
        {
            var callId = "journaled_" + i.ToString(CultureInfo.InvariantCulture);
            var context = new ToolCallContext(taskId, 1, callId, "lookup_journaled", null)
            {
                BeforeRun = (tool, token) => store.StartCallAsync(new CallStart(taskId, 1, callId, tool.Name,
                    ToolCallContext.KeyOf(taskId, callId), tool.SideEffects == ToolSideEffects.Idempotent), token),
            };
            var started = Stopwatch.GetTimestamp();
            var result = await registry.InvokeAsync(selection, new ToolCall(callId, "lookup_journaled", "{\"order\":\"o-1\"}"), context, CancellationToken.None);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (result.IsError || !context.Journaled)
            {
                throw new InvalidOperationException("lookup_journaled failed or was not journaled: " + result.Output);
            }
            if (i >= 0)
            {
                journaled.Add(ms);
            }
        }

        var directP50 = Stats.Percentile(direct, 50);
        var overhead = registered.Select(r => r - directP50).ToList();
        var journaledOverhead = journaled.Select(r => r - directP50).ToList();
        var database = await OverheadScenario.RunAsync(db, smoke);
        return new Result(calls, directP50, Stats.Percentile(direct, 99), Stats.Percentile(overhead, 50), Stats.Percentile(overhead, 99),
            journaledCalls, Stats.Percentile(journaledOverhead, 50), Stats.Percentile(journaledOverhead, 99), database);
    }

    /// <summary>The target (DESIGN.md): p50 ≤ 0.2 ms over the tool's own time.</summary>
    public const double TargetP50Ms = 0.2;

    public static string Write(Result r, string machine, string directory)
    {
        ArgumentNullException.ThrowIfNull(r);
        var md = new StringBuilder();
        md.AppendLine("# Tool call overhead: a registered C# tool beside the database tool (issue 22)");
        md.AppendLine();
        md.AppendLine("Produced by `bash bench/run --tools-only` (this scenario alone; not part of the full run's report).");
        md.AppendLine();
        md.AppendLine(machine);
        md.AppendLine();
        md.AppendLine("A C# function registered with `AddTool` (`lookup(order)`: formats a line, a few microseconds of its own), called");
        md.AppendLine("through the tool registry exactly as the agent loop calls it (`IToolRegistry.InvokeAsync`: span and metrics, the task's");
        md.AppendLine("selection, JSON parsing and the argument check against its schema, the call's `ToolCallContext`, a DI scope of its");
        md.AppendLine("own on the thread pool, the timeout, the output's formatting) and called directly, one after the other, call by call.");
        md.AppendLine("Overhead = each registry call minus the direct call's p50. Declared with side effects, the call is journaled first");
        md.AppendLine("(one insert into `agent.tool_calls`; its \"finished\" rides on the step's own insert, no statement of its own).");
        md.AppendLine("The database tool's row is `OverheadScenario`'s (report.md): a `query` step's duration minus the same query run bare.");
        md.AppendLine();
        md.AppendLine("| what | samples | p50 ms | p99 ms |");
        md.AppendLine("|---|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| the C# function called directly (its own time) | {r.Calls} | {Stats.Ms(r.DirectP50)} | {Stats.Ms(r.DirectP99)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| registered C# tool, read-only: overhead over its own time | {r.Calls} | **{Stats.Ms(r.OverheadP50)}** | {Stats.Ms(r.OverheadP99)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| registered C# tool with side effects (journal start included): overhead | {r.JournaledCalls} | {Stats.Ms(r.JournaledP50)} | {Stats.Ms(r.JournaledP99)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| database tool (`query`): overhead over the bare query (p50 {Stats.Ms(r.Database.BareQueryP50)} ms) | {r.Database.ToolCalls} | {Stats.Ms(r.Database.ToolP50)} | {Stats.Ms(r.Database.ToolP99)} |");
        md.AppendLine();
        var met = r.OverheadP50 <= TargetP50Ms;
        var verdict = met ? "**met**" : "**missed**";
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Target (DESIGN.md): a registered C# tool call's overhead p50 ≤ {TargetP50Ms:0.0} ms over the tool's own time: {verdict} ({Stats.Ms(r.OverheadP50)} ms p50).");
        md.AppendLine("A tool with side effects pays one database round trip more per call (the journal), the price of never repeating it blindly.");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "tools.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }
}
