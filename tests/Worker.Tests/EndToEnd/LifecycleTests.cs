using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentWorker.Dashboard;
using AgentWorker.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>Cancellation, deadlines, duplicate executors and the REST lifecycle endpoints, in real runs.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class LifecycleTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The second model turn of the next task takes <paramref name="delayMs"/> before its first output.</summary>
    private async Task SlowSecondTurnAsync(int delayMs)
    {
        await env.WaitForIdleAsync();
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "slow", skip = 1, delay_ms = delayMs }, Ct);
    }

    private Task WaitForStepsAsync(long id, int count) =>
        env.Database.WaitUntilAsync("select count(*) >= @count from agent.steps where task_id = @id", new { id, count });

    private async Task<(string Status, string? ErrorCode, long Steps, double SecondsAfterCancel)> OutcomeAsync(long id)
    {
        await using var connection = env.Database.Open();
        await using var command = new NpgsqlCommand("""
            select status, error_code, (select count(*) from agent.steps s where s.task_id = t.id),
                   coalesce(extract(epoch from t.finished_at - t.cancel_requested_at), -1)::float8
              from agent.tasks t where id = @id
            """, connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2), reader.GetDouble(3));
    }

    [Fact]
    public async Task SqlCancel_WhileAModelTurnStreams_StopsTheRunAndKeepsItsSteps()
    {
        await SlowSecondTurnAsync(10_000);
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        await WaitForStepsAsync(id, 2); // turn 1 and list_tables stored; turn 2 is streaming slowly

        Assert.Equal("stop_requested", await env.Database.ScalarAsync<string>("select agent.cancel(@id)", new { id }));
        var status = await env.WaitForTaskAsync(id);

        var outcome = await OutcomeAsync(id);
        Assert.Equal("cancelled", status);
        Assert.Equal("cancelled", outcome.ErrorCode);
        Assert.Equal(2, outcome.Steps);
        Assert.InRange(outcome.SecondsAfterCancel, 0, 5); // far sooner than the 10 s turn would have taken
    }

    [Fact]
    public async Task Deadline_PassesWhileAModelTurnStreams_FailsWithDeadline()
    {
        await SlowSecondTurnAsync(10_000);
        var id = await env.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'How many orders are there?', deadline => now() + interval '1500 milliseconds')");

        Assert.Equal("failed", await env.WaitForTaskAsync(id));

        var outcome = await OutcomeAsync(id);
        Assert.Equal("deadline", outcome.ErrorCode);
        Assert.Equal(2, outcome.Steps);
    }

    [Fact]
    public async Task DashboardDelete_OfARunningTasksJob_CancelsTheTask()
    {
        await SlowSecondTurnAsync(10_000);
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many products are there?')");
        await WaitForStepsAsync(id, 2);
        // The mirror writes the job off the critical path: on a loaded machine it may trail the first steps.
        var jobId = await WaitForJobStateAsync(id, "Processing");

        Assert.True(env.WorkerServices.GetRequiredService<IBackgroundJobClient>().Delete(jobId));

        Assert.Equal("cancelled", await env.WaitForTaskAsync(id));
        Assert.Equal(2, (await OutcomeAsync(id)).Steps);
    }

    [Fact]
    public async Task DashboardRequeue_OfACancelledTasksJob_ResumesFromItsStepsAsANewJob()
    {
        await SlowSecondTurnAsync(10_000);
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders are there?')");
        await WaitForStepsAsync(id, 2);
        Assert.Equal("stop_requested", await env.Database.ScalarAsync<string>("select agent.cancel(@id)", new { id }));
        Assert.Equal("cancelled", await env.WaitForTaskAsync(id));
        var oldJob = await WaitForJobStateAsync(id, "Deleted");

        Assert.True(env.WorkerServices.GetRequiredService<IBackgroundJobClient>().Requeue(oldJob));

        await env.Database.WaitUntilAsync("select status = 'succeeded' from agent.tasks where id = @id", new { id });
        var steps = await env.Database.ScalarAsync<string>(
            "select string_agg(kind || ':' || attempt, ',' order by seq) from agent.steps where task_id = @id", new { id });
        Assert.Equal("model:1,tool:1,model:2,tool:2,model:2,tool:2,model:2", steps); // the cancelled run's two steps kept, not redone
        var newJob = await WaitForJobStateAsync(id, "Succeeded");
        Assert.NotEqual(oldJob, newJob);
        var monitoring = env.WorkerServices.GetRequiredService<JobStorage>().GetMonitoringApi();
        Assert.Contains("Requeued", monitoring.JobDetails(oldJob).History[0].Data["Result"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mirror_SucceededAndFailedTasks_ShowAsHangfireJobsWithTheirOutcome()
    {
        var ok = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        var bad = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders are there?', max_steps => 1)");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(ok));
        Assert.Equal("failed", await env.WaitForTaskAsync(bad));

        var monitoring = env.WorkerServices.GetRequiredService<JobStorage>().GetMonitoringApi();
        var okJob = monitoring.JobDetails(await WaitForJobStateAsync(ok, "Succeeded"));
        var badJob = monitoring.JobDetails(await WaitForJobStateAsync(bad, "Failed"));

        Assert.Equal(["Succeeded", "Processing"], okJob.History.Select(h => h.StateName));
        Assert.Equal(ok, (long)okJob.Job.Args[0]);
        Assert.Contains("There are", okJob.History[0].Data["Result"], StringComparison.Ordinal);
        Assert.Equal("max_steps", badJob.History[0].Reason);
        Assert.Contains("max_steps", badJob.History[0].Data["ExceptionMessage"], StringComparison.Ordinal);
        Assert.True(monitoring.GetStatistics().Succeeded > 0);
        Assert.Empty(monitoring.EnqueuedJobs(AgentWorker.Jobs.Hangfire.AgentTaskJob.ControlQueue, 0, 10)); // no worker ever fetches a mirror job
    }

    /// <summary>Waits until the task's current mirror job is in <paramref name="state"/>; returns the job id.</summary>
    private async Task<string> WaitForJobStateAsync(long id, string state)
    {
        var monitoring = env.WorkerServices.GetRequiredService<JobStorage>().GetMonitoringApi();
        for (var i = 0; ; i++)
        {
            var jobId = await env.Database.ScalarAsync<string?>("select hangfire_job_id from agent.tasks where id = @id", new { id });
            if (jobId is not null && monitoring.JobDetails(jobId)?.History.FirstOrDefault()?.StateName == state)
            {
                return jobId;
            }
            Assert.True(i < 200, $"task {id}'s job never reached {state}");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task StoredInfiniteTimes_WrittenBeforeTheyWereRefused_DoNotStallTheExecutor()
    {
        // Rows an older schema let in: the checks are dropped here to write them as it did.
        await env.Database.ScalarAsync<object>(
            "alter table agent.tasks drop constraint tasks_run_at_finite, drop constraint tasks_deadline_finite");
        var never = await env.Database.ScalarAsync<long>("insert into agent.tasks (prompt, run_at) values ('never', 'infinity') returning id");
        var past = await env.Database.ScalarAsync<long>(
            "insert into agent.tasks (prompt, run_at, deadline) values ('How many customers?', '-infinity', '-infinity') returning id");
        try
        {
            var fine = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many products are there?')");

            Assert.Equal("succeeded", await env.WaitForTaskAsync(fine, TimeSpan.FromSeconds(20)));
            Assert.Equal("failed", await env.WaitForTaskAsync(past, TimeSpan.FromSeconds(20)));
            Assert.Equal("deadline", await env.Database.ScalarAsync<string>("select error_code from agent.tasks where id = @past", new { past }));
            Assert.Equal("queued", await env.Database.ScalarAsync<string>("select status from agent.tasks where id = @never", new { never }));
        }
        finally
        {
            await env.Database.ScalarAsync<object>("delete from agent.tasks where id in (@never, @past)", new { never, past });
            await env.Database.ScalarAsync<object>("""
                alter table agent.tasks add constraint tasks_run_at_finite check (isfinite(run_at)) not valid,
                    add constraint tasks_deadline_finite check (deadline is null or isfinite(deadline)) not valid
                """);
        }
    }

    [Fact]
    public async Task ApiCancel_QueuedRunningFinishedAndUnknown_AnswerAccordingly()
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        var queued = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'later', run_at => now() + interval '1 hour')");
        var done = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(done));

        using var cancelled = await http.PostAsync($"/api/tasks/{queued}/cancel", null, Ct);
        using var finished = await http.PostAsync($"/api/tasks/{done}/cancel", null, Ct);
        using var unknown = await http.PostAsync("/api/tasks/987654321/cancel", null, Ct);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("cancelled", (string?)(await cancelled.Content.ReadFromJsonAsync<JsonObject>(Ct))!["outcome"]);
        Assert.Equal("cancelled", await env.Database.ScalarAsync<string>("select status from agent.tasks where id = @queued", new { queued }));
        Assert.Equal(HttpStatusCode.Conflict, finished.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task ApiList_ByStatus_PagesNewestFirst()
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        var ids = await env.Database.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array['a', 'b', 'c'], run_at => now() + interval '1 hour')");

        var first = (await http.GetFromJsonAsync<JsonObject>("/api/tasks?status=queued&limit=2", Ct))!;
        var second = (await http.GetFromJsonAsync<JsonObject>((string)first["next"]!, Ct))!;
        using var bad = await http.GetAsync("/api/tasks?status=nope", Ct);

        Assert.Equal([ids[2], ids[1]], first["items"]!.AsArray().Select(i => (long)i!["id"]!));
        Assert.Equal(ids[0], (long)second["items"]![0]!["id"]!);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var openApi = await http.GetAsync("/api/openapi.json", Ct);
        Assert.Contains("/api/tasks/{id}/cancel", await openApi.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueMany_SetOfPrompts_ReturnsIdsInOrderAndRefusesAnEmptyPromptNamingIt()
    {
        var ids = await env.Database.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array['How many orders?', 'How many products?'], idempotency_key => 'many-1')");
        var again = await env.Database.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array['How many orders?', 'How many products?'], idempotency_key => 'many-1')");
        var before = await env.Database.ScalarAsync<long>("select count(*) from agent.tasks");

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            env.Database.ScalarAsync<long[]>("select agent.enqueue_many(prompts => array['fine', ' ', 'fine too'])"));

        Assert.Equal(ids, again);
        Assert.Equal("agent.enqueue_many: prompt 2 (counting from 1) is empty", error.MessageText);
        Assert.Equal(before, await env.Database.ScalarAsync<long>("select count(*) from agent.tasks"));
        foreach (var id in ids)
        {
            Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        }
    }

    [Fact]
    public async Task Dashboard_ListeningBeyondLoopbackWithoutAKey_RefusesToStart_AndAKeyIsThenRequired()
    {
        var app = $"--ConnectionStrings:App={env.Database.ConnectionString}";

        var refused = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create([app, "--urls", "http://0.0.0.0:0"]));
        await using var keyed = DashboardApp.Create([app, "--urls", "http://127.0.0.1:0", "--Api:Key=s3cret", "--Logging:LogLevel:Default=Warning"]);
        await keyed.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = new Uri(keyed.Urls.First()) };
        using var anonymous = await http.GetAsync("/api/tasks", Ct);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
        using var authorized = await http.GetAsync("/api/tasks", Ct);
        await keyed.StopAsync(Ct);

        Assert.Contains("Api__Key", refused.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
    }
}
