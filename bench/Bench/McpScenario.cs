using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentWorker.Jobs.Tools;
using AgentWorker.Jobs.Tools.Mcp;
using AgentWorker.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;

namespace AgentWorker.Bench;

/// <summary>
/// The cost of an MCP stdio call (issue 22): the test server's <c>echo</c> (no work of its own) and <c>slow</c> (5 ms of
/// work) called one after another through <see cref="ToolRegistry.InvokeAsync(ToolCall, CancellationToken)"/> (argument
/// check, the connection, the SDK, the pipes, the server), beside the same calls made with the SDK's own client alone
/// and the tool's own time (the function run directly, in process).
/// </summary>
internal static class McpScenario
{
    internal sealed record Result(int Calls, Figures Registry, Figures Sdk, Figures Direct, int SlowCalls, Figures SlowRegistry, double SlowOwnMs);

    internal sealed record Figures(double P50, double P99);

    public static async Task<Result> RunAsync(bool smoke)
    {
        var calls = smoke ? 50 : 2000;
        var slowCalls = smoke ? 10 : 300;
        var options = McpTestServerProcess.Options();
        var names = new McpServerNames();
        names.Add("bench");
        using var servers = new McpServers(names, new OneServer(options), TimeProvider.System, NullLoggerFactory.Instance);
        await servers.StartAsync(CancellationToken.None);
        try
        {
            var catalog = new ToolCatalog([], [servers.Get("bench")], EmptyServices.Instance, NullLogger<ToolCatalog>.Instance);
            var registry = new ToolRegistry(catalog, EmptyServices.Instance, Options.Create(new ToolsOptions()), NullLogger<ToolRegistry>.Instance);
            var echo = new ToolCall("call_1", "bench__echo", """{"text":"hello"}""");
            var slow = new ToolCall("call_2", "bench__slow", """{"milliseconds":5}""");

            await TimeAsync(100, async () => await registry.InvokeAsync(echo, CancellationToken.None));
            var viaRegistry = await TimeAsync(calls, async () => Check(await registry.InvokeAsync(echo, CancellationToken.None)));
            var slowViaRegistry = await TimeAsync(slowCalls, async () => Check(await registry.InvokeAsync(slow, CancellationToken.None)));

            await using var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
            {
                Command = options.Command!, Arguments = [.. options.Arguments],
            }));
            var arguments = new Dictionary<string, object?> { ["text"] = "hello" };
            await TimeAsync(100, async () => await client.CallToolAsync("echo", arguments));
            var viaSdk = await TimeAsync(calls, async () => await client.CallToolAsync("echo", arguments));
            var direct = await TimeAsync(calls, () => Task.FromResult(McpTestServer.TestTools.Echo("hello")));
            var slowOwn = await TimeAsync(slowCalls, () => McpTestServer.TestTools.Slow(5, CancellationToken.None));

            return new Result(calls, Of(viaRegistry), Of(viaSdk), Of(direct), slowCalls, Of(slowViaRegistry), Stats.Percentile(slowOwn, 50));
        }
        finally
        {
            await servers.StopAsync(CancellationToken.None);
        }
    }

    public static string Write(Result r, string machine, string directory)
    {
        ArgumentNullException.ThrowIfNull(r);
        var md = new StringBuilder();
        md.AppendLine("# MCP stdio call overhead (issue 22)");
        md.AppendLine();
        md.AppendLine("Produced by `bash bench/run` (or `bash bench/run --mcp-only`, this scenario alone).");
        md.AppendLine();
        md.AppendLine(machine);
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"The test server (`tests/McpTestServer`, official SDK 2.4.0, `dotnet McpTestServer.dll` over stdio); {r.Calls} calls of");
        md.AppendLine("`echo` one after another after 100 to warm up, each timed alone: through the worker's tool registry (argument check");
        md.AppendLine("against the schema, the connection, the SDK client, the pipes, the server), with the SDK's client alone on its own");
        md.AppendLine(CultureInfo.InvariantCulture, $"process, and the tool's function run directly in process; then {r.SlowCalls} calls of `slow` (5 ms of work) through the registry.");
        md.AppendLine();
        md.AppendLine("| call | p50 | p99 |");
        md.AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| `echo` through the registry (MCP stdio) | {Stats.Ms(r.Registry.P50)} ms | {Stats.Ms(r.Registry.P99)} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| `echo` with the SDK client alone | {Stats.Ms(r.Sdk.P50)} ms | {Stats.Ms(r.Sdk.P99)} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| `echo`'s own function, in process | {r.Direct.P50 * 1000:F1} µs | {r.Direct.P99 * 1000:F1} µs |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| `slow` (5 ms) through the registry; its own time p50 {Stats.Ms(r.SlowOwnMs)} ms | {Stats.Ms(r.SlowRegistry.P50)} ms | {Stats.Ms(r.SlowRegistry.P99)} ms |");
        md.AppendLine();
        md.AppendLine("| figure | target | measured |");
        md.AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| MCP stdio call overhead over the tool's own time, p50 (`echo`) | ≤ 2 ms | {Stats.Ms(r.Registry.P50 - r.Direct.P50)} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| the same, p99 | | {Stats.Ms(r.Registry.P99 - r.Direct.P99)} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| over the tool's own time, p50 (`slow`, 5 ms) | ≤ 2 ms | {Stats.Ms(r.SlowRegistry.P50 - r.SlowOwnMs)} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| the worker's share (registry minus the SDK client alone), p50 | | {Stats.Ms(r.Registry.P50 - r.Sdk.P50)} ms |");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "mcp.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private static ToolResult Check(ToolResult result) =>
        result.IsError ? throw new InvalidOperationException("An MCP call failed: " + result.Output) : result;

    private static async Task<List<double>> TimeAsync<T>(int count, Func<Task<T>> call)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return times;
    }

    private static async Task<List<double>> TimeAsync(int count, Func<Task> call) =>
        await TimeAsync(count, async () => { await call(); return 0; });

    private static Figures Of(List<double> times) => new(Stats.Percentile(times, 50), Stats.Percentile(times, 99));

    private sealed class OneServer(McpServerOptions options) : IOptionsMonitor<McpServerOptions>
    {
        public McpServerOptions CurrentValue => options;

        public McpServerOptions Get(string? name) => options;

        public IDisposable? OnChange(Action<McpServerOptions, string?> listener) => null;
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
