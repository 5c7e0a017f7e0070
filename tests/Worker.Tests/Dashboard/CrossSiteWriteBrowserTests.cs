using System.Text;
using AgentWorker.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace AgentWorker.Tests.Dashboard;

/// <summary>
/// A page of another site, in Chromium, posts to the API with what the browser attaches by itself (the operator's
/// cookie; on the open loopback default, nothing is needed): nothing changes. The dashboard's own pages still write.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class CrossSiteWriteBrowserTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private Task<long> LaterTaskAsync() =>
        env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'later', run_at => now() + interval '1 hour')");

    private async Task<long> FailedTaskAsync()
    {
        var id = await LaterTaskAsync();
        await env.Database.ScalarAsync<object>("update agent.tasks set status = 'failed', error_code = 'internal_error', finished_at = now() where id = @id", new { id });
        return id;
    }

    private Task<string> StatusAsync(long id) => env.Database.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id });

    /// <summary>
    /// Opens <paramref name="attacker"/> (a page of <see cref="OtherSite"/>) holding a form that posts to
    /// <paramref name="target"/>, submits it as a visitor's click would, and returns the status the dashboard answered.
    /// </summary>
    private static async Task<int> PostFormFromAsync(IPage page, OtherSite site, string attacker, string target,
        string enctype = "application/x-www-form-urlencoded", string fields = "")
    {
        site.Html = $"""<!DOCTYPE html><form method="post" enctype="{enctype}" action="{target}">{fields}<button>Win a prize</button></form>""";
        await page.GotoAsync(attacker);
        var response = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button"), r => r.Request.Method == "POST");
        // An empty 403 becomes Chromium's error page: let that navigation commit before the next one starts (its load
        // event is not waited for: on a loaded machine Chromium's error page sometimes never fires one).
        await page.WaitForURLAsync(url => url != attacker, new() { WaitUntil = WaitUntilState.Commit });
        return response.Status;
    }

    /// <summary>A no-CORS fetch from the page: the browser sends it (cookies included) and hides the answer.</summary>
    private static Task<string> BlindPostAsync(IPage page, string target) =>
        page.EvaluateAsync<string>("url => fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include' }).then(() => 'sent', e => 'failed: ' + e)", target);

    /// <summary>A write from a page of the dashboard itself, as its own scripts send one; returns the status.</summary>
    private static Task<int> OwnPagePostAsync(IPage page, string path, object? body = null) =>
        page.EvaluateAsync<int>("""
            ([path, body]) => fetch(path, body === null ? { method: 'POST' }
                : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(r => r.status)
            """, new object?[] { path, body });

    [Fact]
    public async Task OnTheOpenLoopbackDefault_APageOfAnotherSite_NeitherCancelsRetriesNorEnqueues_TheDashboardsOwnPagesDo()
    {
        var dashboard = env.DashboardUrl.GetLeftPart(UriPartial.Authority);
        var queued = await LaterTaskAsync();
        var failed = await FailedTaskAsync();
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();
        await using var site = await OtherSite.StartAsync();
        // localhost is another site than 127.0.0.1 (and on loopback too, so the browser's local-network rules do not step in).
        var attacker = $"http://localhost:{site.Port}/prize";

        var cancel = await PostFormFromAsync(page, site, attacker, $"{dashboard}/api/tasks/{queued}/cancel");
        var retry = await PostFormFromAsync(page, site, attacker, $"{dashboard}/API/tasks/{failed}/retry");
        // Hangfire's own commands want its antiforgery token, which another site cannot read.
        var hangfire = await PostFormFromAsync(page, site, attacker, $"{dashboard}/hangfire/recurring/trigger", fields: """<input name="jobs[]" value="x">""");
        var enqueue = await PostFormFromAsync(page, site, attacker, $"{dashboard}/api/tasks", "text/plain",
            """<input name='{"prompt": "cross-site", "run_at": "2099-01-01T00:00:00Z", "x": "' value='"}'>""");
        site.Html = "<p>prize</p>";
        await page.GotoAsync(attacker);
        Assert.Equal("sent", await BlindPostAsync(page, $"{dashboard}/api/tasks/{queued}/cancel"));

        Assert.Equal((403, 403, 403, 403), (cancel, retry, enqueue, hangfire));
        Assert.Equal("queued", await StatusAsync(queued));
        Assert.Equal("failed", await StatusAsync(failed));
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.tasks where prompt = 'cross-site'"));
        var own = await chromium.Browser.NewPageAsync();
        await own.GotoAsync(dashboard + "/hangfire/agent/tasks");
        Assert.Equal(201, await OwnPagePostAsync(own, "/api/tasks", new { prompt = "own page", run_at = "2099-01-01T00:00:00Z" }));
        Assert.Equal(200, await OwnPagePostAsync(own, $"/api/tasks/{queued}/cancel"));
        Assert.Equal("cancelled", await StatusAsync(queued));
    }

    [Fact]
    public async Task WithASignedInOperator_APageOfAnotherOriginOnTheSameSite_CannotWriteWithTheCookie_TheDashboardsOwnPagesAndButtonsCan()
    {
        await env.Database.ScalarAsync<string>("select agent.upsert_schedule(name => 'cross-site', cron => '0 2 * * *', prompts => array['How many orders?'])");
        await using var web = await TestDashboard.StartAsync(env.Database, TestDashboard.Key, TestDashboard.Users);
        var dashboard = web.Urls.First();
        var queued = await LaterTaskAsync();
        var failed = await FailedTaskAsync();
        await using var chromium = await Chromium.LaunchAsync();
        var page = await (await chromium.Browser.NewContextAsync()).NewPageAsync();
        await page.GotoAsync(dashboard + "/login");
        await TestDashboard.SignInAsync(page, "alice", "alice-secret");
        await using var site = await OtherSite.StartAsync();
        // Another port of 127.0.0.1: another origin but the same site, so the SameSite=Strict cookie goes along.
        var attacker = $"http://127.0.0.1:{site.Port}/prize";

        var cancel = await PostFormFromAsync(page, site, attacker, $"{dashboard}/api/tasks/{queued}/cancel");
        var retry = await PostFormFromAsync(page, site, attacker, $"{dashboard}/api/tasks/{failed}/retry");
        var trigger = await PostFormFromAsync(page, site, attacker, $"{dashboard}/api/schedules/cross-site/trigger");
        site.Html = "<p>prize</p>";
        await page.GotoAsync(attacker);
        Assert.Equal("sent", await BlindPostAsync(page, $"{dashboard}/api/tasks/{queued}/cancel"));

        Assert.Equal((403, 403, 403), (cancel, retry, trigger));
        Assert.Equal("queued", await StatusAsync(queued));
        Assert.Equal("failed", await StatusAsync(failed));
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.batches where schedule_name = 'cross-site'"));
        await page.GotoAsync(dashboard + "/hangfire/agent/tasks");
        Assert.Equal(200, await OwnPagePostAsync(page, $"/api/tasks/{queued}/cancel"));
        Assert.Equal(202, await OwnPagePostAsync(page, $"/api/tasks/{failed}/retry", new { max_steps = 5 }));
        Assert.Equal("cancelled", await StatusAsync(queued));
        // Hangfire's own buttons (its antiforgery header, same origin) still work for an operator.
        await TestDashboard.WaitForRecurringJobAsync(env, "agent-schedule:cross-site");
        await page.GotoAsync(dashboard + "/hangfire/recurring");
        await page.Locator("tr:has-text('agent-schedule:cross-site') input[type=checkbox]").CheckAsync();
        await page.ClickAsync("button:has-text('Trigger now')");
        await env.Database.WaitUntilAsync("select count(*) = 1 from agent.batches where schedule_name = 'cross-site'");
        await env.Database.ScalarAsync<bool>("select agent.delete_schedule('cross-site')");
    }

    [Fact]
    public async Task WithoutFetchMetadata_TheOriginDecides_AndWithoutEitherOnlyAJsonBodyOrNoneMayWrite()
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        var dashboard = env.DashboardUrl.GetLeftPart(UriPartial.Authority);
        async Task<int> CancelAsync(long id, Action<HttpRequestMessage> shape)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/tasks/{id}/cancel");
            shape(request);
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            return (int)response.StatusCode;
        }
        var ids = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await LaterTaskAsync());
        }

        var answers = new[]
        {
            await CancelAsync(ids[0], r => r.Headers.Add("Origin", "http://evil.example")), // a browser without Sec-Fetch-Site
            await CancelAsync(ids[1], r => r.Headers.Add("Sec-Fetch-Site", "same-site")),
            await CancelAsync(ids[2], r => r.Content = new FormUrlEncodedContent([])), // what a form sends, with no Origin
            await CancelAsync(ids[3], r => r.Content = new StringContent("x", Encoding.UTF8, "text/plain")),
            await CancelAsync(ids[4], r => r.Headers.Add("Origin", dashboard)),
            await CancelAsync(ids[5], _ => { }), // curl -X POST
            await CancelAsync(ids[6], r => r.Content = new StringContent("{}", Encoding.UTF8, "application/json")),
        };

        Assert.Equal([403, 403, 415, 415, 200, 200, 200], answers);
        Assert.Equal(["queued", "queued", "queued", "queued", "cancelled", "cancelled", "cancelled"], await Task.WhenAll(ids.Select(StatusAsync)));
    }

    /// <summary>Another web site on this machine (another port): it serves <see cref="Html"/> at <c>/prize</c>.</summary>
    private sealed class OtherSite : IAsyncDisposable
    {
        private readonly WebApplication _web;

        private OtherSite(WebApplication web) => _web = web;

        public string Html { get; set; } = "";

        public int Port => new Uri(_web.Urls.First()).Port;

        public static async Task<OtherSite> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var web = builder.Build();
            var site = new OtherSite(web);
            web.MapGet("/prize", () => Results.Content(site.Html, "text/html; charset=utf-8"));
            await web.StartAsync(TestContext.Current.CancellationToken);
            return site;
        }

        public ValueTask DisposeAsync() => _web.DisposeAsync();
    }
}
