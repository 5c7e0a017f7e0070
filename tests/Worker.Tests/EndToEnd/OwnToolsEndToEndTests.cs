using AgentWorker.Jobs.Tools;
using AgentWorker.Tests.Infrastructure;
using AgentWorker.McpTestServer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// A real worker with every kind of tool at once: a C# function added on the builder, an MCP server over stdio (a
/// process the worker starts), an MCP server over streamable HTTP (with a required header), and the database tools.
/// One task of a configured agent calls all four, enqueued by SQL and run by the executor, over the WebSocket and
/// over HTTP.
/// </summary>
public abstract class OwnToolsEnvironment : AgentEnvironment
{
    private readonly TestMcpHttpServer _remote =
        TestMcpHttpServer.StartAsync("X-Api-Key", "remote-secret").GetAwaiter().GetResult();

    protected virtual IEnumerable<string> Transport => [];

    protected override IEnumerable<string> WorkerArguments =>
    [
        .. Transport,
        "--Tools:Mcp:everything:Command=dotnet",
        $"--Tools:Mcp:everything:Arguments:0={McpTestServerProcess.Dll}",
        $"--Tools:Mcp:remote:Url={_remote.Url}",
        "--Tools:Mcp:remote:Headers:X-Api-Key=remote-secret",
        "--Agents:support:Instructions=Answer from the tools.",
        "--Agents:support:Tools:0=order_status",
        "--Agents:support:Tools:1=everything__*",
        "--Agents:support:Tools:2=remote__*",
        "--Agents:support:Tools:3=query",
    ];

    protected override void ConfigureWorker(IServiceCollection services) =>
        services.AddAgentWorker(new ConfigurationBuilder().Build(), worker => worker.AddTool(
            (string orderId, ToolCallContext call) => $"order {orderId} shipped (task {call.TaskId})",
            "order_status", "Says where an order is.", new AgentToolOptions { SideEffects = ToolSideEffects.ReadOnly }));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _remote.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class OwnToolsWebSocketEnvironment : OwnToolsEnvironment;

public sealed class OwnToolsHttpEnvironment : OwnToolsEnvironment
{
    protected override IEnumerable<string> Transport => ["--Llm:Transport=http"];
}

public abstract class OwnToolsEndToEndTests(OwnToolsEnvironment env, string transport)
{
    [Fact]
    public async Task AnAgentsTask_CallsACSharpTool_TwoMcpServers_AndTheDatabase_InOneTask()
    {
        const string prompt = """
            [call:order_status]{"orderId":"o-42"}[/call] [call:everything__echo]{"text":"over stdio"}[/call]
            [call:remote__add]{"a":40,"b":2}[/call] [call:query]{"sql":"select 7 as seven"}[/call]
            """;
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(agent => 'support', prompt => @prompt)", new { prompt });

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        var result = await env.Database.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id });
        Assert.StartsWith($"order_status: order o-42 shipped (task {id}) | everything__echo: over stdio | remote__add: 42 | query: ", result, StringComparison.Ordinal);
        Assert.Equal(["order_status", "everything__echo", "remote__add", "query"], (await env.Database.ScalarAsync<string[]>(
            "select array_agg(tool_name order by seq) from agent.steps where task_id = @id and kind = 'tool' and error is null", new { id })));
        Assert.Equal(transport, await env.Database.ScalarAsync<string>(
            "select string_agg(distinct transport, ',') from agent.steps where task_id = @id and kind = 'model'", new { id }));
        var offered = await env.Database.ScalarAsync<string[]>("select tools from agent.tasks where id = @id", new { id });
        Assert.Contains("order_status", offered);
        Assert.Contains("everything__echo", offered);
        Assert.Contains("remote__add", offered);
        Assert.Contains("query", offered);
        Assert.DoesNotContain("list_tables", offered);
        Assert.Equal("support", await env.Database.ScalarAsync<string>("select agent from agent.tasks where id = @id", new { id }));
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class OwnToolsWebSocketTests(OwnToolsWebSocketEnvironment env)
    : OwnToolsEndToEndTests(env, "ws"), IClassFixture<OwnToolsWebSocketEnvironment>;

[Collection(AgentEnvironmentGroup.Name)]
public sealed class OwnToolsHttpTests(OwnToolsHttpEnvironment env)
    : OwnToolsEndToEndTests(env, "http"), IClassFixture<OwnToolsHttpEnvironment>;
