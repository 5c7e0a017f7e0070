using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>The README's promise: a task enqueued by SQL or HTTP runs to succeeded against the simulator.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class EndToEndTests(AgentEnvironment stack) : IClassFixture<AgentEnvironment>
{
    private sealed record Step(int Seq, string Kind, string? ToolName, double DurationMs, double? TtftMs, string? SocketId, bool? Chained,
        string? ResponseId, int? InputTokens, string Items);

    private async Task<List<Step>> StepsAsync(long id)
    {
        await using var connection = stack.Database.Open();
        return (await connection.QueryAsync<Step>("""
            select seq, kind, tool_name as ToolName, duration_ms as DurationMs, ttft_ms as TtftMs, socket_id as SocketId, chained,
                   response_id as ResponseId, input_tokens as InputTokens, items::text as Items
              from agent.steps where task_id = @id order by seq
            """, new { id })).ToList();
    }

    [Fact]
    public async Task SqlEnqueue_TaskRunsToSucceeded_WithTheAnswerFromTheDataAndEveryStepInOrder()
    {
        var id = await stack.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");

        var status = await stack.WaitForTaskAsync(id);

        Assert.Equal("succeeded", status);
        var customers = await stack.Database.ScalarAsync<long>("select count(*) from shop.customers");
        var result = await stack.Database.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id });
        Assert.Contains($"There are {customers} rows in shop.customers", result, StringComparison.Ordinal);

        var steps = await StepsAsync(id);
        Assert.Equal(["model", "tool", "model", "tool", "model", "tool", "model"], steps.Select(s => s.Kind));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], steps.Select(s => s.Seq));
        Assert.Equal(["list_tables", "describe_table", "query"], steps.Where(s => s.Kind == "tool").Select(s => s.ToolName));
        Assert.All(steps, s => Assert.True(s.DurationMs > 0));
        var turns = steps.Where(s => s.Kind == "model").ToList();
        Assert.All(turns, t => Assert.NotNull(t.TtftMs));
        Assert.All(turns, t => Assert.StartsWith("resp_", t.ResponseId, StringComparison.Ordinal));
        Assert.Single(turns.Select(t => t.SocketId).Distinct());
        Assert.Equal([false, true, true, true], turns.Select(t => t.Chained ?? false));
        Assert.All(steps, s => Assert.NotEqual("[]", s.Items));

        var totals = await stack.Database.ScalarAsync<long>("select input_tokens from agent.tasks where id = @id", new { id });
        Assert.Equal(turns.Sum(t => t.InputTokens ?? 0), totals);
        // The mirror writes the job off the critical path: it may trail the run on a loaded machine.
        await stack.Database.WaitUntilAsync("select hangfire_job_id is not null from agent.tasks where id = @id", new { id });
    }

    [Fact]
    public async Task HttpEnqueue_TaskRunsToSucceeded_AndTheApiShowsResultAndSteps()
    {
        using var http = new HttpClient { BaseAddress = stack.DashboardUrl };
        var ct = TestContext.Current.CancellationToken;

        using var created = await http.PostAsync("/api/tasks",
            new StringContent("""{"prompt": "How many orders are there?", "max_steps": 10}""", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (long)(await created.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!;
        Assert.Equal("succeeded", await stack.WaitForTaskAsync(id));

        var task = (await http.GetFromJsonAsync<JsonObject>($"/api/tasks/{id}", ct))!;
        var orders = await stack.Database.ScalarAsync<long>("select count(*) from shop.orders");
        Assert.Equal("succeeded", (string?)task["status"]);
        Assert.Contains($"There are {orders} rows in shop.orders", (string?)task["result_text"], StringComparison.Ordinal);
        var steps = task["steps"]!.AsArray();
        Assert.Equal(7, steps.Count);
        Assert.Equal("query", (string?)steps[5]!["tool_name"]);
        Assert.True((double)steps[0]!["duration_ms"]! > 0);
        Assert.True((long)task["output_tokens"]! > 0);
    }

    [Theory]
    [InlineData("""{"prompt": ""}""", "prompt must not be empty")]
    [InlineData("""{"prompt": "hi", "max_steps": 0}""", "max_steps must be between 1 and 200")]
    [InlineData("""{"prompt": "hi", "maxsteps": 3}""", "\"maxsteps\" is not a field of a task. The fields are: prompt (required)")]
    [InlineData("""{"prompt": "hi",""", "The body is not a valid JSON object (line 1")]
    [InlineData("""[1, 2]""", "The body is not a valid JSON object")]
    [InlineData("""{"prompt": "hi", "max_steps": "5"}""", "\"max_steps\" must be an integer from 1 to 200.")]
    [InlineData("""{"prompt": "hi", "run_at": "infinity"}""", "\"run_at\" must be a date-time in ISO 8601 with its offset")]
    [InlineData("""{"prompt": "hi", "tool_config": [1]}""", "\"tool_config\" must be a JSON object.")]
    public async Task HttpEnqueue_BadInput_Returns400NamingTheProblemAndStoresNothing(string body, string expected)
    {
        using var http = new HttpClient { BaseAddress = stack.DashboardUrl };
        var ct = TestContext.Current.CancellationToken;
        var before = await stack.Database.ScalarAsync<long>("select count(*) from agent.tasks");

        using var response = await http.PostAsync("/api/tasks", new StringContent(body, Encoding.UTF8, "application/json"), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>(ct))!;
        Assert.Contains(expected, (string?)problem["detail"], StringComparison.Ordinal);
        Assert.DoesNotContain("AgentWorker", (string?)problem["detail"], StringComparison.Ordinal); // no .NET type names
        Assert.DoesNotContain("System.", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal(before, await stack.Database.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task HttpGet_UnknownTask_Returns404()
    {
        using var http = new HttpClient { BaseAddress = stack.DashboardUrl };

        using var response = await http.GetAsync("/api/tasks/987654321", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task SqlEnqueue_MaxStepsReached_FailsWithErrorCodeAndKeepsItsSteps()
    {
        var id = await stack.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many products?', max_steps => 2)");

        Assert.Equal("failed", await stack.WaitForTaskAsync(id));

        Assert.Equal("max_steps", await stack.Database.ScalarAsync<string>("select error_code from agent.tasks where id = @id", new { id }));
        Assert.Equal(["model", "tool", "model", "tool"], (await StepsAsync(id)).Select(s => s.Kind));
    }

    [Fact]
    public async Task SqlEnqueue_ModelSendsForbiddenSql_ToolRefusesAndTheTaskStillSucceeds()
    {
        var id = await stack.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'Clean up: `delete from shop.orders`')");

        Assert.Equal("succeeded", await stack.WaitForTaskAsync(id));

        var steps = await StepsAsync(id);
        Assert.Contains("read-only transaction", steps.Single(s => s.Kind == "tool").Items, StringComparison.Ordinal);
        Assert.Equal(5000L, await stack.Database.ScalarAsync<long>("select count(*) from shop.orders"));
    }

    [Fact]
    public async Task Dashboard_AgentTaskPages_ShowTheTaskAndEveryStep()
    {
        var id = await stack.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many products are there?')");
        Assert.Equal("succeeded", await stack.WaitForTaskAsync(id));
        using var http = new HttpClient { BaseAddress = stack.DashboardUrl };
        var ct = TestContext.Current.CancellationToken;

        var list = await http.GetStringAsync("/hangfire/agent/tasks", ct);
        var page = await http.GetStringAsync($"/hangfire/agent/tasks/{id}", ct);

        Assert.Contains($"/hangfire/agent/tasks/{id}\"", list, StringComparison.Ordinal);
        Assert.Contains("Agent tasks", list, StringComparison.Ordinal);
        Assert.Contains($"Agent task #{id}", page, StringComparison.Ordinal);
        Assert.Contains("There are 100 rows in shop.products.", page, StringComparison.Ordinal);
        var stepRows = page.Split("<tr class=\"agent-step ").Length - 1;
        Assert.Equal(7, stepRows);
        foreach (var tool in new[] { "list_tables", "describe_table", "query" })
        {
            Assert.Contains($"<td>{tool}</td>", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SqlEnqueue_DelayedRunAt_StartsOnlyWhenDue()
    {
        var id = await stack.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'How many customers?', run_at => now() + interval '1500 milliseconds')");

        Assert.Equal("succeeded", await stack.WaitForTaskAsync(id));

        Assert.True(await stack.Database.ScalarAsync<bool>(
            "select started_at >= run_at from agent.tasks where id = @id", new { id }));
    }

    [Fact]
    public async Task SqlEnqueueMany_TwentyTasksAtOnce_AllSucceedEachWithItsOwnCompleteSteps()
    {
        var ids = (await stack.Database.ScalarAsync<long[]>(
            "select array_agg(agent.enqueue(prompt => 'How many orders? #' || i)) from generate_series(1, 20) i")).ToList();

        foreach (var id in ids)
        {
            Assert.Equal("succeeded", await stack.WaitForTaskAsync(id));
        }

        Assert.Equal(20 * 7L, await stack.Database.ScalarAsync<long>("select count(*) from agent.steps where task_id = any(@ids)", new { ids }));
        Assert.Equal(20L, await stack.Database.ScalarAsync<long>("select count(*) from agent.tasks where id = any(@ids) and attempt = 1", new { ids }));
        // Each task is mirrored as a Hangfire job of its own (recorded off the critical path, so possibly just after).
        await stack.Database.WaitUntilAsync("select count(distinct hangfire_job_id) = 20 from agent.tasks where id = any(@ids)", new { ids });
    }

    [Fact]
    public async Task SqlEnqueue_SeveralCallsInOneTurn_AreAllRunAndAnsweredInOrder()
    {
        var id = await stack.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'Run `select 1 as first` and `select 2 as second` and `select 3 as third`')");

        Assert.Equal("succeeded", await stack.WaitForTaskAsync(id));

        var steps = await StepsAsync(id);
        Assert.Equal(["model", "tool", "tool", "tool", "model"], steps.Select(s => s.Kind));
        var calls = JsonNode.Parse(steps[0].Items)!.AsArray().Select(i => (string?)i!["call_id"]).ToList();
        var answered = steps.Skip(1).Take(3).Select(s => (string?)JsonNode.Parse(s.Items)![0]!["call_id"]).ToList();
        Assert.Equal(calls, answered);
        var result = await stack.Database.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id });
        Assert.Matches("first.*second.*third", result);
    }

    [Fact]
    public async Task SqlEnqueue_ToolCallsKeepFailing_FailsWithToolErrorsAndKeepsItsSteps()
    {
        var id = await stack.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'Run `select 1/0` and `select * from nowhere` and `select nope()`')");

        Assert.Equal("failed", await stack.WaitForTaskAsync(id));

        Assert.Equal("tool_errors", await stack.Database.ScalarAsync<string>("select error_code from agent.tasks where id = @id", new { id }));
        var message = await stack.Database.ScalarAsync<string>("select error_message from agent.tasks where id = @id", new { id });
        Assert.Contains("3 tool calls in a row failed", message, StringComparison.Ordinal);
        Assert.Equal(["model", "tool", "tool", "tool"], (await StepsAsync(id)).Select(s => s.Kind));
    }

    [Fact]
    public async Task SqlEnqueue_DeadlinePassesDuringAToolCall_FailsWithDeadlineAndKeepsItsSteps()
    {
        var id = await stack.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'Run `select pg_sleep(3)`', deadline => now() + interval '800 milliseconds')");

        Assert.Equal("failed", await stack.WaitForTaskAsync(id));

        Assert.Equal("deadline", await stack.Database.ScalarAsync<string>("select error_code from agent.tasks where id = @id", new { id }));
        Assert.Equal(["model"], (await StepsAsync(id)).Select(s => s.Kind));
        Assert.True(await stack.Database.ScalarAsync<bool>(
            "select finished_at < created_at + interval '3 seconds' from agent.tasks where id = @id", new { id }),
            "the run was not stopped at its deadline");
    }
}
