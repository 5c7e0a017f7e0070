using AgentWorker.Dashboard;
using AgentWorker.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace AgentWorker.Tests.Dashboard;

/// <summary>Sign-in with configured users: every dashboard page needs it, viewers change nothing, operators may.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class SignInBrowserTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<WebApplication> StartDashboardAsync() => TestDashboard.StartAsync(env.Database, TestDashboard.Users);

    [Fact]
    public async Task WithUsers_EveryPageNeedsSignIn_AWrongPasswordIsRefused_AndAViewerCannotTriggerWhatAnOperatorCan()
    {
        await env.Database.ScalarAsync<string>("select agent.upsert_schedule(name => 'signin-nightly', cron => '0 2 * * *', prompts => array['How many orders?'])");
        await TestDashboard.WaitForRecurringJobAsync(env, "agent-schedule:signin-nightly");
        await using var web = await StartDashboardAsync();
        var url = web.Urls.First();
        await using var chromium = await Chromium.LaunchAsync();

        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var refused = await anonymous.GetAsync(url + "/hangfire/agent/tasks", Ct);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Contains("/login", refused.Headers.Location?.ToString(), StringComparison.Ordinal);

        var viewer = await chromium.Browser.NewPageAsync();
        await viewer.GotoAsync(url + "/hangfire/recurring");
        Assert.Contains("/login", viewer.Url, StringComparison.Ordinal);
        await TestDashboard.SignInAsync(viewer, "bob", "wrong");
        Assert.Contains("Unknown user or wrong password.", await viewer.Locator(".error").InnerTextAsync(), StringComparison.Ordinal);
        await TestDashboard.SignInAsync(viewer, "nobody", "bob-secret");
        Assert.Contains("Unknown user or wrong password.", await viewer.Locator(".error").InnerTextAsync(), StringComparison.Ordinal);
        await TestDashboard.SignInAsync(viewer, "bob", "bob-secret");
        Assert.EndsWith("/hangfire/recurring", viewer.Url, StringComparison.Ordinal);
        Assert.Contains("agent-schedule:signin-nightly", await viewer.Locator("body").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await viewer.Locator("button:has-text('Trigger now')").CountAsync());

        var operatorPage = await (await chromium.Browser.NewContextAsync()).NewPageAsync();
        await operatorPage.GotoAsync(url + "/hangfire/recurring");
        await TestDashboard.SignInAsync(operatorPage, "alice", "alice-secret");
        Assert.True(await operatorPage.Locator("button:has-text('Trigger now')").CountAsync() > 0);
        await env.Database.ScalarAsync<bool>("select agent.delete_schedule('signin-nightly')");
    }

    [Fact]
    public async Task WithUsers_TheApiNeedsASessionOrTheKey_ViewersOnlyRead_AndSigningOutEndsTheSession()
    {
        await using var web = await StartDashboardAsync();
        var url = web.Urls.First();
        await using var chromium = await Chromium.LaunchAsync();
        using var anonymous = new HttpClient();

        using var refused = await anonymous.GetAsync(url + "/api/tasks", Ct);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);

        var viewer = await (await chromium.Browser.NewContextAsync()).NewPageAsync();
        await viewer.GotoAsync(url + "/hangfire/agent/tasks");
        await TestDashboard.SignInAsync(viewer, "bob", "bob-secret");
        Assert.Equal(200, (await viewer.APIRequest.GetAsync(url + "/api/tasks")).Status);
        var viewerPost = await viewer.APIRequest.PostAsync(url + "/api/tasks", new() { DataObject = new { prompt = "from a viewer" } });
        Assert.Equal(403, viewerPost.Status);
        Assert.Contains("bob", await viewer.Locator(".agent-signed-in").InnerTextAsync(), StringComparison.Ordinal);
        await viewer.ClickAsync(".agent-signed-in button");
        Assert.Contains("/login", viewer.Url, StringComparison.Ordinal);
        await viewer.GotoAsync(url + "/hangfire/agent/tasks");
        Assert.Contains("/login", viewer.Url, StringComparison.Ordinal);

        var operatorPage = await (await chromium.Browser.NewContextAsync()).NewPageAsync();
        await operatorPage.GotoAsync(url + "/login");
        await TestDashboard.SignInAsync(operatorPage, "alice", "alice-secret");
        var operatorPost = await operatorPage.APIRequest.PostAsync(url + "/api/tasks",
            new() { DataObject = new { prompt = "from an operator", run_at = "2099-01-01T00:00:00Z" } });
        Assert.Equal(201, operatorPost.Status);
    }

    [Fact]
    public async Task Login_WithoutReturnUrl_WithAnExpiredForm_OrAForeignReturnUrl_NeverFails()
    {
        await using var web = await StartDashboardAsync();
        var url = web.Urls.First();
        using var noCookies = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

        using var expired = await noCookies.PostAsync(url + "/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "alice", ["password"] = "alice-secret" }), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, expired.StatusCode);
        Assert.Equal("/login?expired=1", expired.Headers.Location?.ToString());

        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();
        await page.GotoAsync(url + "/login?returnUrl=" + Uri.EscapeDataString("/\\evil.example"));
        await TestDashboard.SignInAsync(page, "alice", "alice-secret");
        Assert.EndsWith("/hangfire", page.Url.TrimEnd('/'), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_ManyWrongPasswordsFromOneAddress_Answer429WithRetryAfter_EvenForTheRightPassword_AndThePageSaysWhy()
    {
        await using var web = await StartDashboardAsync();
        var url = web.Urls.First();
        using var client = TestDashboard.Client(url);
        for (var i = 0; i < AgentWorker.Dashboard.LoginThrottle.PerClient; i++)
        {
            using var wrong = await TestDashboard.PostLoginAsync(client, i % 2 == 0 ? "bob" : "nobody", "guess " + i);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var limited = await TestDashboard.PostLoginAsync(client, "bob", "another guess");
        using var right = await TestDashboard.PostLoginAsync(client, "bob", "bob-secret");

        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.InRange(limited.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        Assert.Contains("Too many sign-in attempts from your address: try again in", await limited.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, right.StatusCode); // refused before the password is even hashed
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();
        await page.GotoAsync(url + "/login");
        await TestDashboard.SignInAsync(page, "alice", "alice-secret");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        Assert.Matches(@"^Too many sign-in attempts from your address: try again in \d+ s\.$", await page.Locator(".error").InnerTextAsync());
    }

    [Fact]
    public void ListeningBeyondLoopbackWithoutUsers_RefusesToStart_NamingTheSetting()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create(
            [$"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://0.0.0.0:0", "--Api:Key=0123456789abcdef"]));
        var both = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create(
            [$"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://0.0.0.0:0"]));

        Assert.Contains("Dashboard__Users__<name>__PasswordHash", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Api__Key", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Api__Key", both.Message, StringComparison.Ordinal); // everything missing, in one message
        Assert.Contains("Dashboard__Users__", both.Message, StringComparison.Ordinal);
        var shortKey = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create(
            [$"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://0.0.0.0:0", "--Api:Key=s3cret", .. TestDashboard.Users]));
        Assert.Contains("Api__Key) has 6 characters", shortKey.Message, StringComparison.Ordinal);
        var badRole = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create(
            [$"--ConnectionStrings:App={env.Database.ConnectionString}", $"--Dashboard:Users:x:PasswordHash={DashboardSignIn.Hash("p")}", "--Dashboard:Users:x:Role=admin"]));
        Assert.Contains("viewer or operator", badRole.Message, StringComparison.Ordinal);
    }
}
