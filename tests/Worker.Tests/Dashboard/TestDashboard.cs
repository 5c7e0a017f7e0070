using System.Net;
using System.Text.RegularExpressions;
using AgentWorker.Dashboard;
using AgentWorker.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AgentWorker.Tests.Dashboard;

/// <summary>
/// A dashboard host of a test's own (beside the environment's open one) on a free loopback port, with the users and the
/// key a test asks for, and the two ways to sign in: a browser page and a plain HTTP client with a cookie jar.
/// </summary>
internal static partial class TestDashboard
{
    public const string ApiKey = "test-api-key";

    /// <summary>alice (operator, password alice-secret) and bob (viewer, password bob-secret).</summary>
    public static readonly string[] Users =
    [
        $"--Dashboard:Users:alice:PasswordHash={DashboardSignIn.Hash("alice-secret")}", "--Dashboard:Users:alice:Role=operator",
        $"--Dashboard:Users:bob:PasswordHash={DashboardSignIn.Hash("bob-secret")}",
    ];

    public static readonly string[] Key = [$"--Api:Key={ApiKey}"];

    public static async Task<WebApplication> StartAsync(TestDatabase database, params string[][] settings)
    {
        var web = DashboardApp.Create(
        [
            $"--ConnectionStrings:App={database.ConnectionString}", "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning",
            .. settings.SelectMany(s => s),
        ]);
        await web.StartAsync(TestContext.Current.CancellationToken);
        return web;
    }

    /// <summary>Fills and sends the sign-in form the page shows.</summary>
    public static async Task SignInAsync(IPage page, string user, string password)
    {
        await page.FillAsync("input[name=user]", user);
        await page.FillAsync("input[name=password]", password);
        await page.ClickAsync("button[type=submit]");
    }

    /// <summary>A client with a cookie jar that does not follow redirects.</summary>
    public static HttpClient Client(string baseUrl) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(baseUrl) };

    /// <summary>Posts the sign-in form as a browser would (the antiforgery cookie and the hidden fields of <c>GET /login</c>); returns the answer.</summary>
    public static async Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string user, string password)
    {
        var ct = TestContext.Current.CancellationToken;
        var page = await client.GetStringAsync("/login", ct);
        var fields = HiddenField().Matches(page).ToDictionary(
            m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value), StringComparer.Ordinal);
        Assert.True(fields.Count >= 2, "the sign-in page has no antiforgery field or no returnUrl");
        fields["user"] = user;
        fields["password"] = password;
        return await client.PostAsync("/login", new FormUrlEncodedContent(fields), ct);
    }

    /// <summary>Signs the client in; fails the test unless the sign-in is accepted.</summary>
    public static async Task SignInAsync(HttpClient client, string user, string password)
    {
        using var response = await PostLoginAsync(client, user, password);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString() == "/hangfire",
            $"sign-in as {user}: {(int)response.StatusCode} {response.Headers.Location}");
    }

    /// <summary>Waits (10 s at most) until the worker has synced a schedule to its Hangfire recurring job.</summary>
    public static async Task WaitForRecurringJobAsync(AgentEnvironment env, string id)
    {
        var storage = env.WorkerServices.GetRequiredService<Hangfire.JobStorage>();
        bool Exists()
        {
            using var connection = storage.GetConnection();
            return Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection).Any(j => j.Id == id);
        }
        for (var i = 0; i < 100 && !Exists(); i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.True(Exists(), $"no recurring job {id} after 10 s");
    }

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)">""")]
    private static partial Regex HiddenField();
}
