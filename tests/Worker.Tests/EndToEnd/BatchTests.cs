using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Batches;
using AgentWorker.Jobs.Hangfire;
using AgentWorker.Tests.Infrastructure;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>Batches and schedules in real runs: template expansion by the worker, Hangfire schedules, REST and CSV.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class BatchTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Values that must land in prompts exactly as stored: quotes, a newline, NULL, and placeholder syntax.</summary>
    private const string TrickySource = """
        select * from (values (1, 'O''Brien "Bob"', E'line one\nline two', '{{id}} and {{ note }}'),
                              (2, 'Ann', null, 'x')) v(id, name, note, braces) order by id
        """;

    private Task WaitForBatchAsync(long id, string status, int seconds = 60) =>
        env.Database.WaitUntilAsync("select status = @status from agent.batches where id = @id", new { id, status }, TimeSpan.FromSeconds(seconds));

    [Fact]
    public async Task TemplateBatch_FillsEachRowAsData_RunsToFinished_AndItsFollowUpRunsWithTheResults()
    {
        var id = await env.Database.ScalarAsync<long>("""
            select agent.enqueue_batch(name => 'tricky', template => 'Customer {{name}} ({{ id }}): {{note}}. Braces: {{braces}}',
                source_sql => @source, follow_up => 'Summarise the summaries.')
            """, new { source = TrickySource });

        await WaitForBatchAsync(id, "finished");

        var prompts = await env.Database.ScalarAsync<string[]>("select array_agg(prompt order by id) from agent.tasks where batch_id = @id", new { id });
        Assert.Equal(
        [
            "Customer O'Brien \"Bob\" (1): line one\nline two. Braces: {{id}} and {{ note }}",
            "Customer Ann (2): . Braces: x",
        ], prompts);
        Assert.Equal("finished|2|2|0", await env.Database.ScalarAsync<string>(
            "select concat_ws('|', status, total, succeeded, failed) from agent.batches where id = @id", new { id }));
        var followUp = await env.Database.ScalarAsync<long>("select follow_up_task_id from agent.batches where id = @id", new { id });
        Assert.Equal("succeeded", await env.WaitForTaskAsync(followUp));
        var input = await env.Database.ScalarAsync<string>("select prompt from agent.tasks where id = @followUp", new { followUp });
        Assert.StartsWith("Summarise the summaries.", input, StringComparison.Ordinal);
        foreach (var result in await env.Database.ScalarAsync<string[]>("select array_agg(result_text) from agent.tasks where batch_id = @id", new { id }))
        {
            Assert.Contains("result: " + result, input, StringComparison.Ordinal);
        }
        Assert.Contains("prompt: Customer Ann (2)", input, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("select * from shop.nope", "x {{a}}", "source_sql: SQL error")]
    [InlineData("delete from shop.orders returning id", "x {{id}}", "source_sql: SQL error")]
    [InlineData("select 1 as a; select 2 as a", "x {{a}}", "source_sql: SQL error")]
    [InlineData("select xmltable from (select 1 as xmltable) t", "x {{xmltable}}", "XMLTABLE is not allowed")]
    [InlineData("select 1 as a", "x {{b}}", "template: {{b}} names no column of source_sql, whose columns are: a")]
    [InlineData("select i from generate_series(1, 10001) i", "x {{i}}", "source_sql returned more than 10000 rows")]
    [InlineData("select '' as a", "{{a}}", "template: row 1 of source_sql makes a prompt of 0 characters")]
    [InlineData("select repeat('x', 20000) as a from generate_series(1, 1001)", "{{a}}", "at most 20000000 in all (Batches:MaxTotalChars)")]
    [InlineData("select 1 as a, 1 as a", "x {{a}}", "template: {{a}} is ambiguous")]
    public async Task TemplateBatch_ThatCannotBeExpanded_FailsNamingWhy_AndCreatesNoTask(string source, string template, string expected)
    {
        var orders = await env.Database.ScalarAsync<long>("select count(*) from shop.orders");
        var id = await env.Database.ScalarAsync<long>(
            "select agent.enqueue_batch(name => 'bad', template => @template, source_sql => @source)", new { template, source });

        await WaitForBatchAsync(id, "failed");

        Assert.Contains(expected, await env.Database.ScalarAsync<string>("select error from agent.batches where id = @id", new { id }), StringComparison.Ordinal);
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.tasks where batch_id = @id", new { id }));
        Assert.Equal(orders, await env.Database.ScalarAsync<long>("select count(*) from shop.orders"));
    }

    [Fact]
    public async Task Schedule_DefinedBySql_BecomesAHangfireRecurringJob_WhoseTriggerCreatesOneBatch()
    {
        await env.Database.ScalarAsync<string>("""
            select agent.upsert_schedule(name => 'sql-nightly', cron => '0 2 * * *', time_zone => 'Europe/Berlin',
                prompts => array['How many customers are there?', 'How many products are there?'], follow_up => 'Compare.')
            """);
        var storage = env.WorkerServices.GetRequiredService<JobStorage>();
        var job = await WaitForRecurringJobAsync(storage, "agent-schedule:sql-nightly");
        Assert.Equal("0 2 * * *", job.Cron);
        Assert.Equal("Europe/Berlin", job.TimeZoneId);
        Assert.NotNull(job.NextExecution);

        env.WorkerServices.GetRequiredService<IRecurringJobManager>().Trigger("agent-schedule:sql-nightly"); // the page's "Trigger now"

        await env.Database.WaitUntilAsync("select count(*) = 1 from agent.batches where schedule_name = 'sql-nightly'", null, TimeSpan.FromSeconds(60));
        var id = await env.Database.ScalarAsync<long>("select id from agent.batches where schedule_name = 'sql-nightly'");
        await WaitForBatchAsync(id, "finished");
        var followUp = await env.Database.ScalarAsync<long>("select follow_up_task_id from agent.batches where id = @id", new { id });
        Assert.Equal("succeeded", await env.WaitForTaskAsync(followUp));
        Assert.StartsWith("hangfire:", await env.Database.ScalarAsync<string>("select fire_key from agent.batches where id = @id", new { id }), StringComparison.Ordinal);

        await env.Database.ScalarAsync<bool>("select agent.delete_schedule('sql-nightly')");
        await WaitForRecurringJobGoneAsync(storage, "agent-schedule:sql-nightly");
        Assert.Equal(1L, await env.Database.ScalarAsync<long>("select count(*) from agent.batches where schedule_name = 'sql-nightly'"));
    }

    private ScheduleSync Sync(ConfiguredSchedules configured) => ActivatorUtilities.CreateInstance<ScheduleSync>(env.WorkerServices,
        ActivatorUtilities.CreateInstance<ScheduleStore>(env.WorkerServices, configured));

    [Fact]
    public async Task Schedule_FromConfiguration_AppearsAtStartUp_IsUpdatedNotDuplicated_AndGoesWithIt()
    {
        var storage = env.WorkerServices.GetRequiredService<JobStorage>();
        async Task StartWithAsync(Dictionary<string, ScheduleDefinition> schedules)
        {
            var sync = Sync(new ConfiguredSchedules(schedules));
            await sync.StartAsync(Ct);
            await sync.StopAsync(Ct);
        }

        await StartWithAsync(new() { ["from-config"] = new() { Cron = "0 2 * * *", TimeZone = "Europe/Berlin", Prompts = ["How many orders?"] } });
        var first = RecurringJobs(storage).Single(j => j.Id == "agent-schedule:from-config");
        await StartWithAsync(new() { ["from-config"] = new() { Cron = "30 3 * * *", TimeZone = "America/New_York", Prompts = ["How many orders?"] } });
        var updated = RecurringJobs(storage).Where(j => j.Id.StartsWith("agent-schedule:from-config", StringComparison.Ordinal)).ToList();
        var definedIn = await env.Database.ScalarAsync<string>("select defined_in from agent.schedules where name = 'from-config'");
        await StartWithAsync([]);

        Assert.Equal("0 2 * * *", first.Cron);
        Assert.Equal("30 3 * * *", Assert.Single(updated).Cron);
        Assert.Equal("America/New_York", updated[0].TimeZoneId);
        Assert.Equal("config", definedIn);
        Assert.DoesNotContain(RecurringJobs(storage), j => j.Id == "agent-schedule:from-config");
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.schedules where name = 'from-config'"));
        var bad = Sync(
            new ConfiguredSchedules(new Dictionary<string, ScheduleDefinition> { ["broken"] = new() { Cron = "0 99 * * *", Prompts = ["a"] } }));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => bad.StartAsync(Ct));
        Assert.Contains("Schedules:broken", refused.Message, StringComparison.Ordinal);
        Assert.Contains("hour field \"99\"", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rest_BatchesAndSchedules_CreateReadCancelExportAndTrigger()
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };

        using var created = await http.PostAsync("/api/batches", Json("""
            {"name": "rest", "template": "{{name}}: {{note}}", "source_sql": "select * from (values ('O''Brien', E'a \"quoted\"\nnote'), ('=SUM(A1)', 'b')) v(name, note)"}
            """), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var batch = (await created.Content.ReadFromJsonAsync<JsonObject>(Ct))!;
        var id = (long)batch["id"]!;
        Assert.Equal(2, (int)batch["total"]!);
        await WaitForBatchAsync(id, "finished");

        var details = (await http.GetFromJsonAsync<JsonObject>($"/api/batches/{id}", Ct))!;
        Assert.Equal(1.0, (double)details["progress"]!);
        Assert.True((long)details["output_tokens"]! > 0);
        var json = (await http.GetFromJsonAsync<JsonArray>($"/api/batches/{id}/results", Ct))!;
        Assert.Equal("O'Brien: a \"quoted\"\nnote", (string?)json[0]!["prompt"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/batches/{id}/results") { Headers = { { "Accept", "text/csv" } } };
        using var csvResponse = await http.SendAsync(request, Ct);
        var csv = Encoding.UTF8.GetString(await csvResponse.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("\uFEFFbatch,task,status,prompt,result,error,", csv, StringComparison.Ordinal);
        Assert.Contains("\"O'Brien: a \"\"quoted\"\"\nnote\"", csv, StringComparison.Ordinal); // quotes doubled, newline kept inside
        var records = ParseCsv(csv[1..]);
        Assert.Equal(3, records.Count);
        Assert.Equal("O'Brien: a \"quoted\"\nnote", records[1][3]);
        Assert.Equal("'=SUM(A1): b", records[2][3]); // a model's text never runs as a formula
        Assert.Equal(csv, Encoding.UTF8.GetString(await http.GetByteArrayAsync($"/api/batches/{id}/results.csv", Ct)));

        using var bad = await http.PostAsync("/api/batches", Json("""{"name": "rest-bad", "template": "x {{b}}", "source_sql": "select 1 as a"}"""), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("{{b}} names no column", (string?)(await bad.Content.ReadFromJsonAsync<JsonObject>(Ct))!["detail"], StringComparison.Ordinal);
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.batches where name = 'rest-bad'")); // nothing kept

        // A batch whose tasks wait an hour (so none can finish before the cancel): tasks join an open batch by batch_id.
        var laterId = await env.Database.ScalarAsync<long>("insert into agent.batches (name, status) values ('later', 'running') returning id");
        using var joined = await http.PostAsync("/api/tasks", Json($$"""{"prompt": "a", "run_at": "2099-01-01T00:00:00Z", "batch_id": {{laterId}}}"""), Ct);
        Assert.Equal(HttpStatusCode.Created, joined.StatusCode);
        Assert.Equal(1, await env.Database.ScalarAsync<int>("select total from agent.batches where id = @laterId", new { laterId }));
        using var cancelled = await http.PostAsync($"/api/batches/{laterId}/cancel", null, Ct);
        using var cancelledAgain = await http.PostAsync($"/api/batches/{laterId}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, cancelledAgain.StatusCode);

        using var put = await http.PutAsync("/api/schedules/rest-nightly", Json("""{"cron": "0 2 * * *", "time_zone": "Europe/Berlin", "prompts": ["How many orders?"]}"""), Ct);
        using var same = await http.PostAsync("/api/schedules", Json("""{"name": "rest-nightly", "cron": "0 2 * * *", "time_zone": "Europe/Berlin", "prompts": ["How many orders?"]}"""), Ct);
        using var other = await http.PostAsync("/api/schedules", Json("""{"name": "rest-nightly", "cron": "0 3 * * *", "time_zone": "Europe/Berlin", "prompts": ["How many orders?"]}"""), Ct);
        using var badCron = await http.PutAsync("/api/schedules/rest-bad", Json("""{"cron": "0 2 * *", "prompts": ["a"]}"""), Ct);
        using var badZone = await http.PutAsync("/api/schedules/rest-bad", Json("""{"cron": "0 2 * * *", "time_zone": "Europe/Atlantis", "prompts": ["a"]}"""), Ct);
        using var triggered = await http.PostAsync("/api/schedules/rest-nightly/trigger", null, Ct);
        using var deleted = await http.DeleteAsync("/api/schedules/rest-nightly", Ct);
        using var gone = await http.GetAsync("/api/schedules/rest-nightly", Ct);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badCron.StatusCode);
        Assert.Contains("cron", (string?)(await badCron.Content.ReadFromJsonAsync<JsonObject>(Ct))!["detail"], StringComparison.Ordinal);
        Assert.Contains("time_zone", (string?)(await badZone.Content.ReadFromJsonAsync<JsonObject>(Ct))!["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, triggered.StatusCode);
        var firedBatch = (long)(await triggered.Content.ReadFromJsonAsync<JsonObject>(Ct))!["batch_id"]!;
        Assert.Equal("rest-nightly", await env.Database.ScalarAsync<string>("select schedule_name from agent.batches where id = @firedBatch", new { firedBatch }));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.schedules where name = 'rest-bad'"));
    }

    [Fact]
    public async Task CancelBatch_StopsItsRunningTasksWithinSeconds_AndEndsCancelled()
    {
        await env.WaitForIdleAsync();
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "slow", skip = 1, delay_ms = 10_000 }, Ct);
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue_batch(name => 'to cancel', prompts => array['How many orders are there?'], follow_up => 'x')");
        await env.Database.WaitUntilAsync("select count(*) >= 2 from agent.steps s join agent.tasks t on t.id = s.task_id where t.batch_id = @id", new { id });
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };

        using var cancelled = await http.PostAsync($"/api/batches/{id}/cancel", null, Ct);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        await env.Database.WaitUntilAsync("select finished_at is not null from agent.batches where id = @id", new { id }, TimeSpan.FromSeconds(8));
        Assert.Equal("cancelled|1|none", await env.Database.ScalarAsync<string>(
            "select concat_ws('|', status, cancelled, coalesce(follow_up_task_id::text, 'none')) from agent.batches where id = @id", new { id }));
        Assert.Contains("its batch was cancelled", await env.Database.ScalarAsync<string>(
            "select error_message from agent.tasks where batch_id = @id", new { id }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScheduleFire_WhoseTemplateCannotBeExpanded_FailsItsHangfireJobWithTheReason()
    {
        await env.Database.ScalarAsync<string>(
            "select agent.upsert_schedule(name => 'broken', cron => '0 2 * * *', template => 'x {{nope}}', source_sql => 'select 1 as a')");
        var storage = env.WorkerServices.GetRequiredService<JobStorage>();
        await WaitForRecurringJobAsync(storage, "agent-schedule:broken");

        var jobId = ((IRecurringJobManagerV2)env.WorkerServices.GetRequiredService<IRecurringJobManager>()).TriggerJob("agent-schedule:broken");

        var monitoring = storage.GetMonitoringApi();
        for (var i = 0; i < 100 && monitoring.JobDetails(jobId)?.History.Any(h => h.StateName == "Failed") != true; i++)
        {
            await Task.Delay(100, Ct);
        }
        var failure = monitoring.JobDetails(jobId)!.History.First(h => h.StateName == "Failed");
        Assert.Contains("{{nope}} names no column", failure.Data["ExceptionMessage"], StringComparison.Ordinal);
        await env.Database.ScalarAsync<bool>("select agent.delete_schedule('broken')");
    }

    [Fact]
    public async Task Rest_StrictInputOnBatchesAndTasks()
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        async Task<(HttpStatusCode Status, string? Detail)> PostAsync(string path, string body, string type = "application/json")
        {
            using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, type), Ct);
            return (response.StatusCode, (string?)(await response.Content.ReadFromJsonAsync<JsonObject>(Ct))?["detail"]);
        }

        var noOffset = await PostAsync("/api/batches", """{"name": "n", "prompts": ["a"], "deadline": "2099-01-01T00:00:00"}""");
        var numbers = await PostAsync("/api/batches", """{"name": "n", "prompts": [1, 2]}""");
        var surrogate = await PostAsync("/api/tasks", """{"prompt": "half \udc00 a pair"}""");
        var plain = await PostAsync("/api/batches", "hello", "text/plain");
        var unknownBatch = await PostAsync("/api/tasks", """{"prompt": "a", "batch_id": 987654321}""");
        var first = await PostAsync("/api/batches", """{"name": "keyed", "prompts": ["a"], "idempotency_key": "rest-key"}""");
        var conflict = await PostAsync("/api/batches", """{"name": "keyed", "prompts": ["b"], "idempotency_key": "rest-key"}""");

        Assert.Equal((HttpStatusCode.BadRequest, "\"deadline\" must be a date-time in ISO 8601 with its offset, e.g. \"2026-01-01T02:00:00Z\"."), noOffset);
        Assert.Equal((HttpStatusCode.BadRequest, "\"prompts\" must be an array of strings."), numbers);
        Assert.Equal(HttpStatusCode.BadRequest, surrogate.Status);
        Assert.StartsWith("\"prompt\" holds half a surrogate pair", surrogate.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.Status);
        Assert.Contains("Content-Type: application/json", plain.Detail, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "batch_id 987654321 names no batch (batches are made by agent.enqueue_batch)"), unknownBatch);
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.StartsWith("idempotency_key \"rest-key\" was already used for batch", conflict.Detail, StringComparison.Ordinal);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static List<RecurringJobDto> RecurringJobs(JobStorage storage)
    {
        using var connection = storage.GetConnection();
        return connection.GetRecurringJobs();
    }

    private static async Task<RecurringJobDto> WaitForRecurringJobAsync(JobStorage storage, string id)
    {
        for (var i = 0; i < 100; i++)
        {
            if (RecurringJobs(storage).FirstOrDefault(j => j.Id == id) is { } job)
            {
                return job;
            }
            await Task.Delay(100, Ct);
        }
        throw new TimeoutException($"recurring job {id} never appeared");
    }

    private static async Task WaitForRecurringJobGoneAsync(JobStorage storage, string id)
    {
        for (var i = 0; i < 100 && RecurringJobs(storage).Any(j => j.Id == id); i++)
        {
            await Task.Delay(100, Ct);
        }
        Assert.DoesNotContain(RecurringJobs(storage), j => j.Id == id);
    }

    /// <summary>An RFC 4180 reader, as a spreadsheet program reads the file: quoted fields may hold commas, quotes and line breaks.</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                record.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
                i++;
            }
            else
            {
                field.Append(c);
            }
        }
        return records;
    }
}
