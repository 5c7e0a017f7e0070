using System.Net;
using System.Text;
using AgentWorker.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;

namespace AgentWorker.Tests.Dashboard;

/// <summary>
/// Who may use the REST API and the dashboard is a property of each endpoint, so every spelling of a path that routes
/// to an endpoint (case, trailing slash, doubled slash, escapes) meets the same check, over real HTTP.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class ApiAuthorizationTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] s_reads =
    [
        "/api/tasks", "/API/tasks", "/Api/Tasks", "/api/TASKS/", "/API/tasks/", "//api/tasks", "/api%2Ftasks", "/%61pi/tasks", "/API/tasks/{done}",
        "/API/batches", "/API/batches/{batch}", "/API/batches/{batch}/results", "/API/batches/{batch}/results.csv", "/API/schedules",
        "/API/schedules/authz", "/API/agents", "/API/Agents/authz", "/API/openapi.json", "/Api/OpenApi.json",
    ];

    /// <summary>Every write of the API, spelt as routing still matches it.</summary>
    private static readonly (string Method, string Path, string? Json)[] s_writes =
    [
        ("POST", "/API/tasks", """{"prompt": "no key", "run_at": "2099-01-01T00:00:00Z"}"""),
        ("POST", "/Api/Tasks/", """{"prompt": "no key", "run_at": "2099-01-01T00:00:00Z"}"""),
        ("POST", "/API/tasks/{queued}/cancel", null),
        ("POST", "/api/TASKS/{queued}/CANCEL", null),
        ("POST", "/API/tasks/{failed}/retry", null),
        ("POST", "/API/batches", """{"name": "no key", "prompts": ["a"]}"""),
        ("POST", "/API/batches/{batch}/cancel", null),
        ("POST", "/API/schedules", """{"name": "no-key", "cron": "@daily", "prompts": ["a"]}"""),
        ("PUT", "/API/schedules/authz", """{"cron": "@hourly", "prompts": ["b"]}"""),
        ("POST", "/API/schedules/authz/trigger", null),
        ("DELETE", "/API/schedules/authz", null),
        ("PUT", "/API/agents/authz", """{"model": "other"}"""),
        ("PUT", "/Api/Agents/no-key", """{"model": "other"}"""),
        ("DELETE", "/API/agents/authz", null),
    ];

    private async Task<Dictionary<string, long>> FixturesAsync()
    {
        await env.Database.ScalarAsync<string>("select agent.upsert_schedule(name => 'authz', cron => '0 2 * * *', prompts => array['a'])");
        await env.Database.ScalarAsync<string>("select agent.upsert_agent(name => 'authz', model => 'sim-1')");
        var failed = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'x', run_at => now() + interval '1 hour')");
        await env.Database.ScalarAsync<object>(
            "update agent.tasks set status = 'failed', error_code = 'internal_error', finished_at = now() where id = @failed", new { failed });
        return new Dictionary<string, long>
        {
            ["{failed}"] = failed,
            ["{done}"] = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'later', run_at => now() + interval '1 hour')"),
            ["{queued}"] = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'later', run_at => now() + interval '1 hour')"),
            ["{batch}"] = await env.Database.ScalarAsync<long>("insert into agent.batches (name, status) values ('authz', 'running') returning id"),
        };
    }

    /// <summary>A request for the path as spelt (absolute: a relative "//api" would name a host).</summary>
    private static HttpRequestMessage Request(HttpClient client, string method, string path, Dictionary<string, long> ids, string? json = null)
    {
        var url = ids.Aggregate(path, (p, id) => p.Replace(id.Key, id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var request = new HttpRequestMessage(new HttpMethod(method), new Uri(client.BaseAddress!.GetLeftPart(UriPartial.Authority) + url));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>Sends each request; returns one line per request whose answer is not <paramref name="expected"/>.</summary>
    private static async Task<List<string>> MismatchesAsync(HttpClient client, IEnumerable<(string Method, string Path, string? Json)> requests,
        Dictionary<string, long> ids, Func<string, HttpStatusCode> expected)
    {
        var wrong = new List<string>();
        foreach (var (method, path, json) in requests)
        {
            using var request = Request(client, method, path, ids, json);
            using var response = await client.SendAsync(request, Ct);
            if (response.StatusCode != expected(method))
            {
                wrong.Add($"{method} {path}: {(int)response.StatusCode}, expected {(int)expected(method)}");
            }
        }
        return wrong;
    }

    private async Task AssertNothingChangedAsync(Dictionary<string, long> ids, long tasksBefore)
    {
        Assert.Equal(tasksBefore, await env.Database.ScalarAsync<long>("select count(*) from agent.tasks"));
        Assert.Equal("queued", await env.Database.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id = ids["{queued}"] }));
        Assert.Equal("failed", await env.Database.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id = ids["{failed}"] }));
        Assert.Equal("running", await env.Database.ScalarAsync<string>("select status from agent.batches where id = @id", new { id = ids["{batch}"] }));
        Assert.Equal("0 2 * * *", await env.Database.ScalarAsync<string>("select cron from agent.schedules where name = 'authz'"));
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.schedules where name = 'no-key'"));
        Assert.Equal("sim-1", await env.Database.ScalarAsync<string>("select model from agent.agents where name = 'authz'"));
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.agents where name = 'no-key'"));
    }

    private static IEnumerable<(string, string, string?)> Reads(string method = "GET") => s_reads.Select(p => (method, p, (string?)null));

    [Fact]
    public async Task WithKeyAndUsers_NoSpellingOfAnApiPath_ReadsOrWritesWithoutTheKeyOrASession()
    {
        var ids = await FixturesAsync();
        var tasksBefore = await env.Database.ScalarAsync<long>("select count(*) from agent.tasks");
        await using var web = await TestDashboard.StartAsync(env.Database, TestDashboard.Key, TestDashboard.Users);
        using var anonymous = TestDashboard.Client(web.Urls.First());
        using var wrongKey = TestDashboard.Client(web.Urls.First());
        wrongKey.DefaultRequestHeaders.Add("X-Api-Key", "not-the-key");

        var wrong = await MismatchesAsync(anonymous, [.. Reads(), .. Reads("HEAD"), .. s_writes], ids, _ => HttpStatusCode.Unauthorized);
        wrong.AddRange(await MismatchesAsync(wrongKey, [.. Reads(), .. s_writes], ids, _ => HttpStatusCode.Unauthorized));

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        await AssertNothingChangedAsync(ids, tasksBefore);
        using var keyed = TestDashboard.Client(web.Urls.First());
        keyed.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestDashboard.ApiKey);
        using var read = await keyed.GetAsync("/API/tasks", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var cancel = Request(keyed, "POST", "/API/tasks/{queued}/cancel", ids);
        cancel.Headers.Add("Origin", "http://another.example"); // the key is never sent by a browser on its own: no cross-site check
        using var write = await keyed.SendAsync(cancel, Ct);
        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
    }

    [Fact]
    public async Task WithUsersOnly_AViewersSessionReadsUnderEverySpelling_AndWritesUnderNone_AnOperatorsWrites()
    {
        var ids = await FixturesAsync();
        var tasksBefore = await env.Database.ScalarAsync<long>("select count(*) from agent.tasks");
        await using var web = await TestDashboard.StartAsync(env.Database, TestDashboard.Users);
        using var anonymous = TestDashboard.Client(web.Urls.First());
        using var viewer = TestDashboard.Client(web.Urls.First());
        await TestDashboard.SignInAsync(viewer, "bob", "bob-secret");

        var wrong = await MismatchesAsync(anonymous, [.. Reads(), .. s_writes], ids, _ => HttpStatusCode.Unauthorized);
        // Reads that route answer (the unknown schedule 404s), the spellings routing does not match 404.
        wrong.AddRange(await MismatchesAsync(viewer, Reads().Where(r => !r.Item2.Contains("authz", StringComparison.Ordinal) && r.Item2 is not ("//api/tasks" or "/api%2Ftasks")),
            ids, _ => HttpStatusCode.OK));
        wrong.AddRange(await MismatchesAsync(viewer, s_writes, ids, _ => HttpStatusCode.Forbidden));

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        await AssertNothingChangedAsync(ids, tasksBefore);
        using var operatorClient = TestDashboard.Client(web.Urls.First());
        await TestDashboard.SignInAsync(operatorClient, "alice", "alice-secret");
        using var cancelled = await operatorClient.SendAsync(Request(operatorClient, "POST", "/API/tasks/{queued}/cancel", ids), Ct);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
    }

    [Fact]
    public async Task WithKeyOnly_TheApiNeedsTheKeyUnderEverySpelling_AndTheDashboardAdmitsLocalRequests()
    {
        var ids = await FixturesAsync();
        var tasksBefore = await env.Database.ScalarAsync<long>("select count(*) from agent.tasks");
        await using var web = await TestDashboard.StartAsync(env.Database, TestDashboard.Key);
        using var anonymous = TestDashboard.Client(web.Urls.First());

        var wrong = await MismatchesAsync(anonymous, [.. Reads(), .. s_writes], ids, _ => HttpStatusCode.Unauthorized);

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        await AssertNothingChangedAsync(ids, tasksBefore);
        using var dashboard = await anonymous.GetAsync("/HANGFIRE/agent/tasks", Ct);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
    }

    [Fact]
    public async Task WithUsers_EverySpellingOfADashboardPath_SendsABrowserWithoutASessionToSignIn()
    {
        var ids = await FixturesAsync();
        await using var web = await TestDashboard.StartAsync(env.Database, TestDashboard.Users);
        using var anonymous = TestDashboard.Client(web.Urls.First());

        var wrong = new List<string>();
        foreach (var path in new[] { "/hangfire", "/HANGFIRE", "/Hangfire/agent/tasks", "/HANGFIRE/agent/batches/{batch}/results.csv", "/hangfire/JOBS/details/abc", "/HangFire/recurring" })
        {
            using var response = await anonymous.SendAsync(Request(anonymous, "GET", path, ids), Ct);
            if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.AbsolutePath != "/login")
            {
                wrong.Add($"GET {path}: {(int)response.StatusCode} {response.Headers.Location}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public async Task EveryEndpoint_SaysWhoMayUseIt_AndEveryApiEndpointUsesTheApiPolicy()
    {
        await using var web = await TestDashboard.StartAsync(env.Database, TestDashboard.Key, TestDashboard.Users);

        var endpoints = ((IEndpointRouteBuilder)web).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();

        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/api/tasks/{id}/cancel");
        var undeclared = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Metadata.GetOrderedMetadata<IAuthorizeData>().Count == 0);
        Assert.Empty(undeclared.Select(e => e.RoutePattern.RawText));
        var api = endpoints.Where(e => e.RoutePattern.RawText?.StartsWith("/api", StringComparison.OrdinalIgnoreCase) == true).ToList();
        Assert.NotEmpty(api);
        Assert.All(api, e =>
        {
            Assert.Null(e.Metadata.GetMetadata<IAllowAnonymous>());
            Assert.Contains(e.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy == AgentWorker.Dashboard.ApiAccess.Policy);
        });
    }
}
