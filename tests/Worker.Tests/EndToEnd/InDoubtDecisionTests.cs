using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// The operator's decision on a task left in doubt, over REST and on the dashboard's task page (the SQL form,
/// <c>agent.retry(..., in_doubt => ...)</c>, is in <see cref="Tools.CallJournalTests"/>).
/// </summary>
public sealed class InDoubtDecisionTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A task as a run leaves it when a refund was cut off mid-call (not due for 50 years).</summary>
    private async Task<long> InDoubtTaskAsync()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'refund o-1', run_at => now() + interval '50 years')");
        await env.Database.ScalarAsync<int>("""
            update agent.tasks set status = 'failed', finished_at = now(), error_code = 'tool_in_doubt',
                   error_message = 'The worker stopped while refund was running (call call_1, idempotency key agentworker:' || id || ':call_1)'
             where id = @id;
            insert into agent.tool_calls (task_id, call_id, tool_name, idempotency_key, idempotent, attempt)
            values (@id, 'call_1', 'refund', 'agentworker:' || @id || ':call_1', false, 1);
            select 1
            """, new { id });
        return id;
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> RetryAsync(long id, string? body)
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        using var content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync($"/api/tasks/{id}/retry", content, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task Retry_OfATaskInDoubt_WantsADecision_RefusesAnyOther_AndRecordsTheOneGiven()
    {
        var id = await InDoubtTaskAsync();

        var (none, problem) = await RetryAsync(id, null);
        var (bad, invalid) = await RetryAsync(id, """{"in_doubt": "maybe"}""");
        Assert.Equal("failed", await env.Database.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id }));
        var (skip, queued) = await RetryAsync(id, """{"in_doubt": "skip"}""");

        Assert.Equal(HttpStatusCode.Conflict, none);
        Assert.Contains("""{"in_doubt": "rerun"}""", (string?)problem!["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Contains("in_doubt must be \"rerun\" or \"skip\", got \"maybe\"", (string?)invalid!["detail"], StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.Accepted, "queued"), (skip, (string?)queued!["outcome"]));
        // Queued again, due now: the worker may have taken it already.
        Assert.NotEqual("failed", await env.Database.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id }));
        Assert.Equal("skip", await env.Database.ScalarAsync<string>("select resolution from agent.tool_calls where task_id = @id", new { id }));
    }

    [Fact]
    public async Task TheTaskPage_OfATaskInDoubt_OffersBothDecisions_AndOtherFailedTasksDoNot()
    {
        var id = await InDoubtTaskAsync();
        var other = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'other', run_at => now() + interval '50 years')");
        await env.Database.ScalarAsync<int>(
            "update agent.tasks set status = 'failed', finished_at = now(), error_code = 'tool_errors', error_message = 'x' where id = @other returning 1",
            new { other });
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };

        var page = await http.GetStringAsync($"/hangfire/agent/tasks/{id}", Ct);
        var otherPage = await http.GetStringAsync($"/hangfire/agent/tasks/{other}", Ct);

        Assert.Contains("data-decision=\"rerun\"", page, StringComparison.Ordinal);
        Assert.Contains("data-decision=\"skip\"", page, StringComparison.Ordinal);
        Assert.Contains($"/api/tasks/{id}/retry", page, StringComparison.Ordinal);
        Assert.DoesNotContain("agent-in-doubt", otherPage, StringComparison.Ordinal);
    }
}
