using AgentWorker.Dashboard;
using AgentWorker.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentWorker.Tests.Dashboard;

/// <summary>
/// Sign-in through an OpenID Connect provider (a real one over HTTP, <see cref="FakeOidcProvider"/>), in Chromium: the
/// role claim makes an operator or a viewer, and anyone else is turned away.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class OidcSignInBrowserTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string[] Settings(FakeOidcProvider provider) =>
    [
        $"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning",
        $"--Dashboard:Oidc:Authority={provider.Authority}", $"--Dashboard:Oidc:ClientId={FakeOidcProvider.ClientId}",
        $"--Dashboard:Oidc:ClientSecret={FakeOidcProvider.ClientSecret}", "--Dashboard:Oidc:DisplayName=Test IdP",
        "--Dashboard:Oidc:OperatorRoles=agent-operators", "--Dashboard:Oidc:ViewerRoles=agent-viewers",
        "--Dashboard:Oidc:RequireHttpsMetadata=false",
    ];

    private static async Task<IPage> SignInAsync(Chromium chromium, string dashboard, FakeOidcProvider provider, string name, params string[] roles)
    {
        provider.NextUser = (name, roles);
        var page = await (await chromium.Browser.NewContextAsync()).NewPageAsync();
        await page.GotoAsync(dashboard + "/hangfire/agent/tasks");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("input[name=password]").CountAsync());
        await page.ClickAsync("a.agent-oidc:has-text('Sign in with Test IdP')");
        return page;
    }

    [Fact]
    public async Task ProviderRoles_MakeOperatorsAndViewers_AndAnyoneElseIsTurnedAway()
    {
        await using var provider = await FakeOidcProvider.StartAsync();
        await using var web = DashboardApp.Create(Settings(provider));
        await web.StartAsync(Ct);
        var dashboard = web.Urls.First();
        await using var chromium = await Chromium.LaunchAsync();

        var carol = await SignInAsync(chromium, dashboard, provider, "carol", "agent-operators", "staff");
        Assert.EndsWith("/hangfire/agent/tasks", carol.Url, StringComparison.Ordinal);
        Assert.Contains("signed in as carol (operator)", await carol.Locator(".agent-signed-in").InnerTextAsync(), StringComparison.Ordinal);

        var dave = await SignInAsync(chromium, dashboard, provider, "dave", "agent-viewers");
        Assert.EndsWith("/hangfire/agent/tasks", dave.Url, StringComparison.Ordinal);
        Assert.Contains("signed in as dave (viewer)", await dave.Locator(".agent-signed-in").InnerTextAsync(), StringComparison.Ordinal);
        // A viewer's session reads the API but changes nothing.
        var read = await dave.APIRequest.GetAsync(dashboard + "/api/tasks");
        Assert.Equal(200, read.Status);

        var mallory = await SignInAsync(chromium, dashboard, provider, "mallory", "staff");
        Assert.Contains("/login?denied=1", mallory.Url, StringComparison.Ordinal);
        Assert.Contains("did not admit you", await mallory.Locator(".error").InnerTextAsync(), StringComparison.Ordinal);
        await mallory.GotoAsync(dashboard + "/hangfire/agent/tasks");
        Assert.Contains("/login", mallory.Url, StringComparison.Ordinal);
        Assert.Equal(3, provider.TokensIssued);
    }

    [Fact]
    public void HalfConfiguredProvider_FailsStartUpNamingWhatIsMissing()
    {
        var error = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create(
        [
            $"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://127.0.0.1:0",
            "--Dashboard:Oidc:Authority=https://login.example.com/tenant",
        ]));
        Assert.Contains("Dashboard__Oidc__ClientId", error.Message, StringComparison.Ordinal);
        Assert.Contains("Dashboard__Oidc__ClientSecret", error.Message, StringComparison.Ordinal);
        Assert.Contains("Dashboard__Oidc__OperatorRoles", error.Message, StringComparison.Ordinal);
        // Any key of the section turns it on, so a misspelt authority is not silently a dashboard without sign-in.
        var alone = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create(
        [
            $"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://127.0.0.1:0", "--Dashboard:Oidc:OperatorRoles=ops",
        ]));
        Assert.Contains("Dashboard__Oidc__Authority", alone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BeyondLoopback_AProviderCountsAsSignIn()
    {
        // The API key is still needed; sign-in is the provider.
        var error = Assert.Throws<InvalidOperationException>(() => DashboardApp.Create(
        [
            $"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://0.0.0.0:0",
            "--Dashboard:Oidc:Authority=https://login.example.com/tenant", "--Dashboard:Oidc:ClientId=c", "--Dashboard:Oidc:ClientSecret=s",
            "--Dashboard:Oidc:OperatorRoles=ops",
        ]));
        Assert.Contains("Api__Key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("needs sign-in", error.Message, StringComparison.Ordinal);
    }
}
