using AgentWorker.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentWorker.Tests.Dashboard;

/// <summary>The agent pages of the Hangfire dashboard in Debian's Chromium: lists, filters, paging, timelines, live updates, escaping, 404s.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class AgentPagesBrowserTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string At(string path) => new Uri(env.DashboardUrl, "/hangfire" + path).ToString();

    private async Task<(Chromium Chromium, IPage Page)> OpenAsync(string path)
    {
        var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();
        var response = await page.GotoAsync(At(path));
        Assert.Equal(200, response!.Status);
        return (chromium, page);
    }

    [Fact]
    public async Task TaskList_FiltersByStatusAndModel_ShowsTheActiveFilter_AndPages()
    {
        await env.Database.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array(select 'later #' || i from generate_series(1, 55) i), model => 'paging-model', run_at => now() + interval '1 hour')");
        var (chromium, page) = await OpenAsync("/agent/tasks?status=queued&model=paging-model");
        await using var _ = chromium;

        Assert.Equal(50, await page.Locator("tr.agent-task-row").CountAsync());
        Assert.Equal("Showing tasks with status queued, model paging-model", await page.Locator(".agent-active-filter").InnerTextAsync());
        Assert.Equal("queued", (await page.Locator(".agent-status-filter .active").InnerTextAsync()).Trim());
        await page.ClickAsync("a.agent-older");
        Assert.Equal(5, await page.Locator("tr.agent-task-row").CountAsync());
        Assert.Contains("older than task #", await page.Locator(".agent-active-filter").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await page.Locator("a.agent-newest").CountAsync());
        Assert.Contains("later #1", await page.Locator("tr.agent-task-row").Last.InnerTextAsync(), StringComparison.Ordinal);

        await page.GotoAsync(At("/agent/tasks?status=running&model=paging-model"));
        Assert.Equal("No tasks match: Showing tasks with status running, model paging-model.", await page.Locator(".agent-empty").InnerTextAsync());
        await page.GotoAsync(At("/agent/tasks"));
        await page.FillAsync("form.agent-filter input[name=model]", "paging-model");
        await page.ClickAsync("form.agent-filter button");
        Assert.Equal(50, await page.Locator("tr.agent-task-row").CountAsync());
        await env.Database.ScalarAsync<object>("delete from agent.tasks where model = 'paging-model'");
    }

    [Fact]
    public async Task FinishedTask_ShowsItsModelTimelineStepDetailsAndCollapsedToolOutputs()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        var (chromium, page) = await OpenAsync($"/agent/tasks/{id}");
        await using var _ = chromium;

        Assert.Equal("sim-1", await page.Locator(".agent-model").InnerTextAsync());
        Assert.Contains("(the default)", await page.Locator(".agent-task-meta").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("There are", await page.Locator(".agent-result").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(7, await page.Locator(".agent-timeline .agent-bar").CountAsync());
        Assert.Equal(4, await page.Locator(".agent-timeline .agent-bar-model").CountAsync());
        Assert.Equal(7, await page.Locator("tr.agent-step").CountAsync());
        var firstTurn = await page.Locator("tr.agent-step-model").First.InnerTextAsync();
        Assert.Contains("ws", firstTurn, StringComparison.Ordinal);
        Assert.Matches("\t(new|reused)\t", firstTurn); // a warm socket from an earlier task, or a new one
        Assert.Contains("full resend", firstTurn, StringComparison.Ordinal);
        Assert.Contains("chained", await page.Locator("tr.agent-step-model").Nth(1).InnerTextAsync(), StringComparison.Ordinal);
        var outputs = page.Locator("details.agent-output");
        Assert.Equal(3, await outputs.CountAsync());
        Assert.False(await outputs.First.EvaluateAsync<bool>("d => d.open"));
        Assert.False(await page.Locator("details.agent-output pre").First.IsVisibleAsync());
        await page.ClickAsync("details.agent-output summary >> nth=2");
        Assert.Contains("rows", await page.Locator("details.agent-output pre").Nth(2).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator(".agent-step-error").CountAsync()); // arguments are not shown as errors
    }

    [Fact]
    public async Task RunningTask_GainsItsStepsOnThePageWithoutAReload()
    {
        await env.WaitForIdleAsync();
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "slow", skip = 1, delay_ms = 2_500 }, Ct);
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many products are there?')");
        await env.Database.WaitUntilAsync("select count(*) >= 2 from agent.steps where task_id = @id", new { id });
        var (chromium, page) = await OpenAsync($"/agent/tasks/{id}");
        await using var _ = chromium;
        await page.EvaluateAsync("() => { window.__notReloaded = true; }");

        Assert.Equal("running", await page.Locator("#agent-live").GetAttributeAsync("data-status"));
        Assert.Equal(1, await page.Locator(".agent-bar-in-flight").CountAsync());
        Assert.Contains("Running", await page.Locator(".agent-pending").InnerTextAsync(), StringComparison.Ordinal);
        await page.Locator("#agent-live[data-finished=true]").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });

        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        Assert.Equal("succeeded", await page.Locator("#agent-live").GetAttributeAsync("data-status"));
        Assert.Equal(7, await page.Locator("tr.agent-step").CountAsync());
        Assert.Equal(0, await page.Locator(".agent-bar-in-flight").CountAsync());
    }

    [Fact]
    public async Task PromptAndToolOutput_HoldingScript_RenderAsText()
    {
        var id = await env.Database.ScalarAsync<long>("""
            select agent.enqueue(prompt => '<script>window.pwned = 1</script> Run `select ''<script>window.pwned2 = 1</script>'' as x`')
            """);
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        var (chromium, page) = await OpenAsync($"/agent/tasks/{id}");
        await using var _ = chromium;
        await page.ClickAsync("details.agent-output summary");

        Assert.Contains("<script>window.pwned = 1</script>", await page.Locator(".agent-prompt").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("<script>window.pwned2 = 1</script>", await page.Locator("details.agent-output pre").InnerTextAsync(), StringComparison.Ordinal);
        Assert.True(await page.EvaluateAsync<bool>("() => window.pwned === undefined && window.pwned2 === undefined"));
        await page.GotoAsync(At("/agent/tasks"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.pwned === undefined && window.pwned2 === undefined"));
    }

    [Fact]
    public async Task UnknownTaskAndBatch_AnswerNotFound()
    {
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();

        var task = await page.GotoAsync(At("/agent/tasks/987654321"));
        Assert.Equal(404, task!.Status);
        Assert.Equal("There is no task 987654321.", await page.Locator(".agent-not-found").InnerTextAsync());
        var batch = await page.GotoAsync(At("/agent/batches/987654321"));
        Assert.Equal(404, batch!.Status);
        var csv = await page.APIRequest.GetAsync(At("/agent/batches/987654321/results.csv"));
        Assert.Equal(404, csv.Status);
        foreach (var path in new[] { "/agent/tasks/abc", "/agent/nothing-here" })
        {
            var response = await page.GotoAsync(At(path));
            Assert.Equal(404, response!.Status);
            Assert.Equal($"There is no page at {path}.", await page.Locator(".agent-not-found").InnerTextAsync());
        }
        // Hangfire.PostgreSql would answer these with a 500 (it parses the id).
        foreach (var id in new[] { "abc", "99999999999999999999" })
        {
            var response = await page.GotoAsync(At("/jobs/details/" + id));
            Assert.Equal(404, response!.Status);
            Assert.Equal("There is no such job: a job id is a number.", await page.Locator(".agent-not-found").InnerTextAsync());
        }
    }

    [Fact]
    public async Task HangfireJobPage_LinksToItsTask()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        // The mirror records the job id off the critical path: it can trail the task's end.
        await env.Database.WaitUntilAsync("select hangfire_job_id is not null from agent.tasks where id = @id", new { id }, TimeSpan.FromSeconds(30));
        var jobId = await env.Database.ScalarAsync<string>("select hangfire_job_id from agent.tasks where id = @id", new { id });
        var (chromium, page) = await OpenAsync("/jobs/details/" + jobId);
        await using var _ = chromium;

        await page.ClickAsync(".agent-job-task a");
        Assert.EndsWith($"/hangfire/agent/tasks/{id}", page.Url, StringComparison.Ordinal);
        Assert.Equal($"Agent task #{id}", (await page.Locator("h1.page-header").InnerTextAsync()).Trim());
    }

    [Fact]
    public async Task Batch_ListAndPage_ShowCountsAndProgress_AndTheResultsDownload()
    {
        var id = await env.Database.ScalarAsync<long>(
            "select agent.enqueue_batch(name => 'browser batch', prompts => array['How many customers are there?', 'How many products are there?'])");
        await env.Database.WaitUntilAsync("select status = 'finished' from agent.batches where id = @id", new { id }, TimeSpan.FromSeconds(60));
        var (chromium, page) = await OpenAsync("/agent/batches");
        await using var _ = chromium;

        await page.ClickAsync($"tr.agent-batch-row a[href$='/agent/batches/{id}']");
        Assert.Equal("finished", await page.Locator(".agent-status").InnerTextAsync());
        Assert.Equal("2", await page.Locator(".agent-succeeded").InnerTextAsync());
        Assert.Equal("100%", await page.Locator(".agent-progress .progress-bar").InnerTextAsync());
        var csv = await page.APIRequest.GetAsync(At($"/agent/batches/{id}/results.csv"));
        Assert.Equal(200, csv.Status);
        Assert.StartsWith("text/csv", csv.Headers["content-type"], StringComparison.Ordinal);
        Assert.Contains("batch,task,status,prompt,result", await csv.TextAsync(), StringComparison.Ordinal);
        await page.ClickAsync("a.agent-batch-tasks");
        Assert.Equal(2, await page.Locator("tr.agent-task-row").CountAsync());
    }

    [Fact]
    public async Task WorkersPage_ShowsEachLiveWorkerWithItsSocketPool_AndNotTheSilentOnes()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        await env.Database.WaitUntilAsync(
            "select count(*) >= 1 from agent.worker_stats where (pool ->> 'handshakes')::int >= 1 and updated_at > now() - interval '10 seconds'");
        await env.Database.ScalarAsync<object>("""
            insert into agent.worker_stats (process, host, pid, started_at, updated_at, runs, slots, pool)
            values ('gone:1:x', 'gone', 1, now() - interval '1 hour', now() - interval '1 minute', 0, 8, '{"open": 0}')
            """);
        var (chromium, page) = await OpenAsync("/agent/pool");
        await using var _ = chromium;

        var workers = page.Locator("tr.agent-worker");
        Assert.Equal(1, await workers.CountAsync());
        Assert.True(int.Parse(await workers.Locator(".agent-handshakes").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains(Environment.MachineName, await workers.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("Agent workers", await page.Locator(".navbar, .list-group, body").First.InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HomePage_ShowsTheAgentNumbers_AndTheAgentMenu()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        var (chromium, page) = await OpenAsync("/");
        await using var _ = chromium;

        var body = await page.Locator("body").InnerTextAsync();
        foreach (var title in (string[])["Agent tasks queued", "Agent tasks running", "Agent tasks succeeded today", "Agent tasks failed today",
                     "Tokens today", "Median model turn (last hour)", "Sockets leased / idle"])
        {
            Assert.Contains(title, body, StringComparison.Ordinal);
        }
        await page.ClickAsync("text=Agent tasks >> nth=0");
        Assert.Contains("/hangfire/agent/tasks", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OddFiltersAreSaidBack_ANulDoesNotFail_AndAForeignHostIsRefused()
    {
        var (chromium, page) = await OpenAsync("/agent/tasks?status=bogus&batch=abc&model=a%00b&before=x");
        await using var _ = chromium;

        var ignored = await page.Locator(".agent-ignored").InnerTextAsync();
        Assert.Contains("status \"bogus\"", ignored, StringComparison.Ordinal);
        Assert.Contains("batch \"abc\"", ignored, StringComparison.Ordinal);
        Assert.Contains("model (not text)", ignored, StringComparison.Ordinal);
        Assert.Contains("before \"x\"", ignored, StringComparison.Ordinal);
        using var http = new HttpClient();
        foreach (var path in (string[])["/hangfire/agent/tasks", "/api/tasks"])
        {
            using var rebound = new HttpRequestMessage(HttpMethod.Get, new Uri(env.DashboardUrl, path)) { Headers = { Host = "evil.example" } };
            using var response = await http.SendAsync(rebound, Ct);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode); // a page rebinding its name to 127.0.0.1
        }
    }

    [Fact]
    public async Task ATaskWhoseFirstTurnIsInFlight_ShowsItAsSuch_AndItsInstructions()
    {
        await env.WaitForIdleAsync();
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "slow", delay_ms = 3_000 }, Ct);
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders are there?', instructions => 'Answer briefly.')");
        await env.Database.WaitUntilAsync("select status = 'running' from agent.tasks where id = @id", new { id });
        var (chromium, page) = await OpenAsync($"/agent/tasks/{id}");
        await using var _ = chromium;

        Assert.Equal("0", await page.Locator("#agent-live").GetAttributeAsync("data-steps"));
        Assert.Equal(1, await page.Locator(".agent-bar-in-flight").CountAsync());
        Assert.Equal("Answer briefly.", await page.Locator(".agent-instructions").InnerTextAsync());
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
    }
}
