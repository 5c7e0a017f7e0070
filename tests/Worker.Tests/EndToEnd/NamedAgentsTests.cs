using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AgentWorker.Tests.Dashboard;
using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>A worker with an agent in its configuration (<c>Agents__support__...</c>).</summary>
public sealed class NamedAgentsEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> WorkerArguments =>
    [
        "--Agents:support:Instructions=Answer from the shop's order history. Be brief.",
        "--Agents:support:MaxSteps=7",
        "--Agents:support:Tools:0=query",
        "--Agents:support:Tools:1=list_tables",
        "--Agents:support:DeadlineAfter=00:10:00",
        // a configured schedule naming the configured agent: the agents are written first
        "--Schedules:support-nightly:Cron=0 4 * * *",
        "--Schedules:support-nightly:Prompts:0=How many orders came in?",
        "--Schedules:support-nightly:Agent=support",
    ];
}

/// <summary>
/// Named agents end to end: the configuration's agent synced at start and owned by it, a task enqueued over REST with
/// an agent run by the worker and shown with its agent and tools (API and dashboard page), the agent endpoints with
/// their answers and who may write, and batches and schedules naming an agent.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class NamedAgentsTests(NamedAgentsEnvironment env) : IClassFixture<NamedAgentsEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HttpClient Client() => new() { BaseAddress = env.DashboardUrl };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : Json(json) };
        using var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task ConfiguredAgent_IsSyncedAtStart_AndATaskEnqueuedWithItOverRest_RunsAndShowsItsAgentAndTools()
    {
        Assert.Equal("config|7|query,list_tables|00:10:00", await env.Database.ScalarAsync<string>(
            "select concat_ws('|', source, max_steps, array_to_string(tools, ','), deadline_after) from agent.agents where name = 'support'"));
        Assert.Equal("support|config", await env.Database.ScalarAsync<string>(
            "select concat_ws('|', agent, defined_in) from agent.schedules where name = 'support-nightly'"));
        using var client = Client();

        var (status, created) = await SendAsync(client, HttpMethod.Post, "/api/tasks", """{"prompt": "How many customers are there?", "agent": "support"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var id = (long)created!["id"]!;
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        var (_, task) = await SendAsync(client, HttpMethod.Get, $"/api/tasks/{id}");
        Assert.Equal("support", (string?)task!["agent"]);
        Assert.Equal(7, (int)task["max_steps"]!);
        Assert.Equal("Answer from the shop's order history. Be brief.", (string?)task["instructions"]);
        // the tools the run offered once the worker writes them, else the agent's patterns
        Assert.NotEmpty(task["tools"]!.AsArray());
        Assert.Equal(["query", "list_tables"], task["tool_patterns"]!.AsArray().Select(t => (string)t!));
        var (_, page) = await SendAsync(client, HttpMethod.Get, "/api/tasks?limit=5");
        Assert.Contains(page!["items"]!.AsArray(), t => (long)t!["id"]! == id && (string?)t["agent"] == "support");

        var html = await client.GetStringAsync($"/hangfire/agent/tasks/{id}", Ct);
        Assert.Contains("agent <strong class=\"agent-agent\">support</strong>", html, StringComparison.Ordinal);
        var tools = string.Join(", ", task["tools"]!.AsArray().Select(t => (string)t!));
        Assert.Contains($"<span class=\"agent-tools\">{WebUtility.HtmlEncode(tools)}</span>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentEndpoints_CreateReplaceReadAndDelete_AndLeaveTheConfigurationsAgentAlone()
    {
        using var client = Client();
        const string Body = """{"instructions": "Be terse.", "model": "sim-1", "tools": ["query", "everything__*"], "max_steps": 3, "deadline_after": "00:05:00"}""";

        var (created, agent) = await SendAsync(client, HttpMethod.Put, "/api/agents/rest-agent", Body);
        var (replaced, _) = await SendAsync(client, HttpMethod.Put, "/api/agents/rest-agent", Body.Replace("Be terse.", "Be kind.", StringComparison.Ordinal));
        var (read, stored) = await SendAsync(client, HttpMethod.Get, "/api/agents/rest-agent");
        var (_, all) = await SendAsync(client, HttpMethod.Get, "/api/agents");
        var (invalid, problem) = await SendAsync(client, HttpMethod.Put, "/api/agents/rest-agent", """{"max_steps": 0}""");
        var (typo, _) = await SendAsync(client, HttpMethod.Put, "/api/agents/rest-agent", """{"instruction": "x"}""");
        var (configured, owned) = await SendAsync(client, HttpMethod.Put, "/api/agents/support", Body);
        var (configuredDelete, _) = await SendAsync(client, HttpMethod.Delete, "/api/agents/support");
        var (deleted, _) = await SendAsync(client, HttpMethod.Delete, "/api/agents/rest-agent");
        var (deletedAgain, _) = await SendAsync(client, HttpMethod.Delete, "/api/agents/rest-agent");
        var (missing, _) = await SendAsync(client, HttpMethod.Get, "/api/agents/rest-agent");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.OK), (created, replaced, read));
        Assert.Equal(("sql", 3, "00:05:00"), ((string?)agent!["source"], (int)agent["max_steps"]!, (string?)agent["deadline_after"]));
        Assert.Equal("Be kind.", (string?)stored!["instructions"]);
        Assert.Equal(["query", "everything__*"], stored["tools"]!.AsArray().Select(t => (string)t!));
        Assert.Contains(all!.AsArray(), a => (string?)a!["name"] == "support" && (string?)a["source"] == "config");
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (invalid, typo));
        Assert.Contains("max_steps must be between 1 and 200", (string?)problem!["detail"], StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (configured, configuredDelete));
        Assert.Contains("Agents__support__", (string?)owned!["detail"], StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.NoContent, HttpStatusCode.NotFound, HttpStatusCode.NotFound), (deleted, deletedAgain, missing));
        Assert.Equal("config|7", await env.Database.ScalarAsync<string>("select concat_ws('|', source, max_steps) from agent.agents where name = 'support'"));
    }

    [Fact]
    public async Task PostTask_WithAnUnknownAgent_Is400NamingIt_AndNothingIsStored()
    {
        using var client = Client();
        var before = await env.Database.ScalarAsync<long>("select count(*) from agent.tasks");

        var (status, problem) = await SendAsync(client, HttpMethod.Post, "/api/tasks", """{"prompt": "hi", "agent": "nope", "tools": ["query"]}""");
        var (badTool, toolProblem) = await SendAsync(client, HttpMethod.Post, "/api/tasks", """{"prompt": "hi", "tools": ["no such*"]}""");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (status, badTool));
        Assert.Equal("unknown agent \"nope\"", (string?)problem!["detail"]);
        Assert.Contains("tools entry 1", (string?)toolProblem!["detail"], StringComparison.Ordinal);
        Assert.Equal(before, await env.Database.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task BatchAndSchedule_OverRest_TakeAnAgent_AndTheirTasksHaveIt()
    {
        using var client = Client();

        var (batchStatus, batch) = await SendAsync(client, HttpMethod.Post, "/api/batches",
            """{"name": "agents", "prompts": ["How many customers?", "How many orders?"], "agent": "support", "priority": -1}""");
        var (scheduleStatus, schedule) = await SendAsync(client, HttpMethod.Put, "/api/schedules/agents",
            """{"cron": "0 3 * * *", "prompts": ["How many products?"], "agent": "support"}""");
        var (triggered, fire) = await SendAsync(client, HttpMethod.Post, "/api/schedules/agents/trigger");
        var (unknown, _) = await SendAsync(client, HttpMethod.Put, "/api/schedules/agents-bad", """{"cron": "@daily", "prompts": ["a"], "agent": "nope"}""");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.BadRequest),
            (batchStatus, scheduleStatus, triggered, unknown));
        Assert.Equal("support", (string?)batch!["agent"]);
        Assert.Equal("support", (string?)schedule!["agent"]);
        Assert.Null(schedule["max_steps"]);
        foreach (var id in new[] { (long)batch["id"]!, (long)fire!["batch_id"]! })
        {
            Assert.Equal("support|7", await env.Database.ScalarAsync<string>(
                "select concat_ws('|', string_agg(distinct agent, ','), max(max_steps)) from agent.tasks where batch_id = @id", new { id }));
        }
    }

    [Fact]
    public async Task AgentWrites_NeedTheOperatorLevel_AViewerOnlyReads()
    {
        await using var web = await TestDashboard.StartAsync(env.Database, TestDashboard.Users);
        using var anonymous = TestDashboard.Client(web.Urls.First());
        using var viewer = TestDashboard.Client(web.Urls.First());
        await TestDashboard.SignInAsync(viewer, "bob", "bob-secret");
        using var operatorClient = TestDashboard.Client(web.Urls.First());
        await TestDashboard.SignInAsync(operatorClient, "alice", "alice-secret");
        const string Body = """{"model": "sim-1"}""";

        var answers = new List<string>
        {
            $"anonymous GET {(int)(await SendAsync(anonymous, HttpMethod.Get, "/api/agents")).Status}",
            $"anonymous PUT {(int)(await SendAsync(anonymous, HttpMethod.Put, "/api/agents/authz-agent", Body)).Status}",
            $"viewer GET {(int)(await SendAsync(viewer, HttpMethod.Get, "/api/agents")).Status}",
            $"viewer GET one {(int)(await SendAsync(viewer, HttpMethod.Get, "/API/agents/support")).Status}",
            $"viewer PUT {(int)(await SendAsync(viewer, HttpMethod.Put, "/API/Agents/authz-agent", Body)).Status}",
            $"viewer DELETE {(int)(await SendAsync(viewer, HttpMethod.Delete, "/api/agents/authz-agent")).Status}",
        };
        var nothingWritten = await env.Database.ScalarAsync<long>("select count(*) from agent.agents where name = 'authz-agent'");
        answers.Add($"operator PUT {(int)(await SendAsync(operatorClient, HttpMethod.Put, "/api/agents/authz-agent", Body)).Status}");
        answers.Add($"viewer DELETE {(int)(await SendAsync(viewer, HttpMethod.Delete, "/api/agents/authz-agent")).Status}");
        answers.Add($"operator DELETE {(int)(await SendAsync(operatorClient, HttpMethod.Delete, "/api/agents/authz-agent")).Status}");

        Assert.Equal(
        [
            "anonymous GET 401", "anonymous PUT 401", "viewer GET 200", "viewer GET one 200", "viewer PUT 403", "viewer DELETE 403",
            "operator PUT 201", "viewer DELETE 403", "operator DELETE 204",
        ], answers);
        Assert.Equal(0L, nothingWritten);
    }
}
