using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using AgentWorker.Tests.Infrastructure;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Dashboard;

/// <summary>
/// The dashboard package's front door as another app uses it: its own authentication scheme behind the agent API and
/// the dashboard (roles from its claims), its other endpoints left alone, and clear errors for a missing call.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class AgentDashboardFrontDoorTests(PostgresServer server) : IAsyncLifetime
{
    private const string HostScheme = "host";

    private TestDatabase _db = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _db = await server.CreateDatabaseAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private WebApplicationBuilder Builder() => WebApplication.CreateBuilder(
        ["--urls", "http://127.0.0.1:0", $"--ConnectionStrings:App={_db.ConnectionString}", "--Logging:LogLevel:Default=Warning"]);

    [Fact]
    public async Task HostScheme_AdmitsItsUsersByRole_AndLeavesTheHostsEndpointsOpen()
    {
        var builder = Builder();
        builder.Services.AddAuthentication(HostScheme).AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>(HostScheme, null);
        builder.Services.AddAgentTasks(builder.Configuration);
        builder.Services.AddHangfire(hangfire => hangfire.UseAgentStorage(builder.Configuration));
        builder.Services.AddAgentDashboard(builder.Configuration, dashboard => dashboard.AuthenticationScheme = HostScheme);
        await using var app = builder.Build();
        app.MapGet("/mine", () => "the host's own");
        app.MapAgentApi();
        app.UseAgentDashboard();
        await app.StartAsync(Ct);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, HttpMethod.Get, "/api/tasks", user: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Get, "/api/tasks", "bob:viewer")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Post, "/api/tasks", "bob:viewer")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(http, HttpMethod.Post, "/api/tasks", "alice:operator")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, HttpMethod.Get, "/hangfire/agent/tasks", user: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Get, "/hangfire/agent/tasks", "bob:viewer")).StatusCode);
        // The host signs users in: no /login of the dashboard's, no sign-out form on its pages; the host's endpoint stays open.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, "/login", user: null)).StatusCode);
        Assert.DoesNotContain("/logout", await (await SendAsync(http, HttpMethod.Get, "/hangfire/agent/tasks", "bob:viewer")).Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Get, "/mine", user: null)).StatusCode);
    }

    [Fact]
    public async Task EntryPoints_NameTheCallThatIsMissing()
    {
        var configuration = Builder().Configuration;
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddAgentDashboard(configuration));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddAgentDashboard(null!));

        await using var withoutDashboard = Builder().Build();
        Assert.Contains("AddAgentDashboard", Assert.Throws<InvalidOperationException>(() => withoutDashboard.MapAgentApi()).Message, StringComparison.Ordinal);

        var withoutTasks = Builder();
        withoutTasks.Services.AddAgentDashboard(withoutTasks.Configuration);
        await using var withoutTasksApp = withoutTasks.Build();
        Assert.Contains("AddAgentTasks", Assert.Throws<InvalidOperationException>(() => withoutTasksApp.UseAgentDashboard()).Message, StringComparison.Ordinal);

        var badPath = Builder();
        badPath.Services.AddAgentDashboard(badPath.Configuration);
        await using var badPathApp = badPath.Build();
        Assert.Throws<ArgumentException>(() => badPathApp.UseAgentDashboard("hangfire/"));
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? user)
    {
        using var request = new HttpRequestMessage(method, path);
        if (user is not null)
        {
            request.Headers.Add(HeaderAuthenticationHandler.Header, user);
        }
        if (method == HttpMethod.Post)
        {
            request.Content = JsonContent.Create(new { prompt = "How many products are there?" });
        }
        return await http.SendAsync(request, Ct);
    }

    /// <summary>The host's own sign-in, as simple as one can be: <c>X-Test-User: name:role</c>.</summary>
    private sealed class HeaderAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[Header].ToString().Split(':') is not [{ Length: > 0 } name, var role])
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role)], HostScheme);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), HostScheme)));
        }
    }
}
