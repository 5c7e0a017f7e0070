using AgentWorker.Jobs.Tools;
using AgentWorker.Jobs.Tools.Mcp;
using AgentWorker.McpTestServer;

namespace AgentWorker.Tests.Tools.Mcp;

/// <summary>A streamable HTTP server that demands a header (<c>Tools:Mcp:remote:Headers:X-Api-Key</c>).</summary>
public sealed class McpHttpServerTests
{
    [Fact]
    public async Task HttpServer_WithItsHeaderConfigured_ListsAndCalls()
    {
        await using var server = await TestMcpHttpServer.StartAsync("X-Api-Key", "s3cret", cancellationToken: TestContext.Current.CancellationToken);
        await using var harness = await McpHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Tools:Mcp:remote:Url"] = server.Url.ToString(),
            ["Tools:Mcp:remote:Headers:X-Api-Key"] = "s3cret",
        });

        var result = await harness.CallAsync("remote__echo", """{"text":"over http"}""");

        Assert.Equal(new ToolResult("over http", IsError: false), result);
        Assert.Equal(ToolSideEffects.ReadOnly, harness.Catalog.Current.Tools["remote__echo"].SideEffects);
        Assert.Equal(0, server.Refused);
    }

    [Fact]
    public async Task HttpServer_WithAWrongHeader_IsDown_NamingTheHttpStatus()
    {
        await using var server = await TestMcpHttpServer.StartAsync("X-Api-Key", "s3cret", cancellationToken: TestContext.Current.CancellationToken);
        var options = new McpServerOptions { Url = server.Url.ToString() };
        options.Headers["X-Api-Key"] = "wrong";

        await using var harness = await McpHarness.StartAsync(added: [("remote", options)]);

        var state = Assert.Single(harness.Servers.States());
        Assert.Equal(McpServerState.Down, state.Status);
        Assert.Contains("401", state.Error, StringComparison.Ordinal);
        Assert.True(server.Refused > 0);
    }

    [Fact]
    public async Task HttpServer_StoppedAndStartedAgain_IsReconnected()
    {
        var server = await TestMcpHttpServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = server.Url.Port;
        var options = new McpServerOptions { Url = server.Url.ToString(), MaxReconnectDelay = TimeSpan.FromSeconds(2) };
        await using var harness = await McpHarness.StartAsync(added: [("remote", options)]);
        Assert.Equal("one", (await harness.CallAsync("remote__echo", """{"text":"one"}""")).Output);

        await server.DisposeAsync();
        var down = await harness.CallAsync("remote__echo", """{"text":"two"}""");
        await using var again = await TestMcpHttpServer.StartAsync(port: port, cancellationToken: TestContext.Current.CancellationToken);
        await McpHarness.WaitUntilAsync(() => harness.Servers.States()[0] is { Status: McpServerState.Connected, Connections: 2 }, "reconnected");
        var back = await harness.CallAsync("remote__echo", """{"text":"three"}""");

        Assert.True(down.IsError);
        Assert.StartsWith("MCP server remote is not connected", down.Output, StringComparison.Ordinal);
        Assert.Equal("three", back.Output);
    }
}
