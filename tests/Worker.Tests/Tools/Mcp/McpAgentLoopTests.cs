using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using AgentWorker.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Tools.Mcp;

/// <summary>
/// A real worker (simulator, PostgreSQL) configured with the test server as <c>Tools__Mcp__everything__*</c>: its
/// readiness names the server, and the agent loop with the simulator as the model calls two of its tools and the
/// database tool in one task. (Until a task's tool list can be given at enqueue, the loop is driven directly.)
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class McpAgentLoopTests(McpAgentLoopTests.Environment env) : IClassFixture<McpAgentLoopTests.Environment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class Environment : AgentEnvironment
    {
        protected override IEnumerable<string> WorkerArguments =>
        [
            "--Tools:Mcp:everything:Command=dotnet",
            $"--Tools:Mcp:everything:Arguments:0={McpTestServerProcess.Dll}",
        ];
    }

    [Fact]
    public async Task AgentLoop_CallsTheMcpServersToolsAndTheDatabaseTool_InOneTask()
    {
        var loop = env.WorkerServices.GetRequiredService<AgentLoop>();
        var task = new AgentTask
        {
            Id = 1, Attempt = 1, LastSeq = 0, MaxSteps = 10,
            Prompt = """Use the tools. [call:everything__echo]{"text":"from mcp"}[/call] [call:everything__add]{"a":20,"b":22}[/call] [call:query]{"sql":"select 7 as seven"}[/call]""",
            ToolPatterns = ["everything__*", "query"],
        };
        var sink = new StepList();

        var outcome = await loop.RunAsync(task, Checkpoint.Empty, sink, Ct);

        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        Assert.StartsWith("everything__echo: from mcp | everything__add: 42 | query: ", outcome.ResultText, StringComparison.Ordinal);
        Assert.Contains("7", outcome.ResultText!, StringComparison.Ordinal);
        Assert.Equal(["everything__echo", "everything__add", "query"], sink.Steps.Where(s => s.Kind == "tool").Select(s => s.ToolName));
    }

    [Fact]
    public async Task Readyz_HasTheMcpCheck_NamingTheConnectedServer()
    {
        var url = env.WorkerServices.GetRequiredService<HealthServer>().Urls.Single();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        var body = (await http.GetFromJsonAsync<JsonObject>("/readyz", Ct))!;

        var mcp = Assert.Single(body["checks"]!.AsArray(), c => (string?)c!["name"] == "mcp")!;
        Assert.True((bool)mcp["ok"]!);
        Assert.StartsWith("everything connected (", (string?)mcp["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkerStats_PublishTheServersState_ForTheWorkersPage()
    {
        await env.Database.WaitUntilAsync(
            "select exists (select 1 from agent.worker_stats where pool->'mcp' @> '[{\"name\":\"everything\",\"status\":\"connected\"}]')",
            null, TimeSpan.FromSeconds(30));
    }

    private sealed class StepList : IStepSink
    {
        public List<StepRecord> Steps { get; } = [];

        public Task SaveAsync(StepRecord record, CancellationToken cancellationToken)
        {
            Steps.Add(record);
            return Task.CompletedTask;
        }

        public Task StartCallAsync(CallStart start, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
