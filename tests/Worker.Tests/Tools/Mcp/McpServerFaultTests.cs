using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AgentWorker.Jobs.Tools.Mcp;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentWorker.Tests.Tools.Mcp;

/// <summary>
/// MCP servers that fail: killed in the middle of a call, not there at start, too slow to answer at start. Each is a
/// tool error for the caller and a state for readiness, never a crash or a start that hangs; the worker reconnects.
/// </summary>
public sealed class McpServerFaultTests
{
    [Fact]
    public async Task ServerKilledMidCall_IsAPromptToolError_ThenTheServerIsBackAfterBackoff_AndALaterCallWorks()
    {
        await using var harness = await McpHarness.StartAsync(McpHarness.StdioConfiguration("fragile"));
        var firstPid = (await harness.CallAsync("fragile__pid")).Output;
        var watch = Stopwatch.StartNew();

        var crashed = await harness.CallAsync("fragile__crash");

        // Prompt: the SDK fails the pending request when the process's pipes close, long before the 60 s timeout.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.True(crashed.IsError);
        Assert.StartsWith("MCP server fragile is not connected: the connection was lost during the call", crashed.Output, StringComparison.Ordinal);
        Assert.Contains("whether crash took effect is unknown", crashed.Output, StringComparison.Ordinal);

        // Down: the tools stay listed (last known list), readiness names it, a call says it is not connected.
        await McpHarness.WaitUntilAsync(() => harness.Servers.States()[0].Status != McpServerState.Connected, "the server seen down");
        Assert.Contains("fragile__echo", harness.Catalog.Current.Tools.Keys);

        await McpHarness.WaitUntilAsync(() => harness.Servers.States()[0] is { Status: McpServerState.Connected, Connections: 2 }, "the server restarted");
        var echo = await harness.CallAsync("fragile__echo", """{"text":"back"}""");
        var secondPid = (await harness.CallAsync("fragile__pid")).Output;

        Assert.Equal("back", echo.Output);
        Assert.NotEqual(firstPid, secondPid);
        Assert.Equal(HealthStatus.Healthy, McpHealth.Of(harness.Servers.States()).Status);
    }

    [Fact]
    public async Task ServerDownAtStart_StartSucceeds_ReadinessSaysSo_AndACallGetsAClearToolError()
    {
        var missing = new McpServerOptions { Command = "/nonexistent/mcp-server-" + Guid.NewGuid().ToString("N")[..6] };
        await using var harness = await McpHarness.StartAsync(added: [("absent", missing)]);

        var state = Assert.Single(harness.Servers.States());
        Assert.Equal(McpServerState.Down, state.Status);
        var health = McpHealth.Of(harness.Servers.States());
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.StartsWith("absent is down: ", health.Description, StringComparison.Ordinal);

        // Never listed, so no tool of it is offered; a call that names one through the source's own function is told why.
        Assert.Empty(harness.Registry.Select(["absent__*"]).Tools);
        var connection = harness.Servers.Get("absent");
        var result = await connection.CallAsync("echo", new Dictionary<string, object?>(), TestContext.Current.CancellationToken);
        Assert.True(result.IsError);
        Assert.StartsWith("MCP server absent is not connected: ", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowServerAtStart_StartWaitsOnlyItsStartTimeout_AndKeepsTryingInTheBackground()
    {
        // A port that accepts connections and never answers: the MCP handshake would wait its own 30 s.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/mcp";
        var options = new McpServerOptions { Url = url, StartTimeout = TimeSpan.FromMilliseconds(500) };

        await using var harness = await McpHarness.StartAsync(added: [("silent", options)]);

        Assert.True(harness.StartedIn < TimeSpan.FromSeconds(10), $"start took {harness.StartedIn}");
        Assert.Equal(McpServerState.Connecting, Assert.Single(harness.Servers.States()).Status);
        Assert.Equal(HealthStatus.Degraded, McpHealth.Of(harness.Servers.States()).Status);
    }
}
