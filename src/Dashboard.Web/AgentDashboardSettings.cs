namespace AgentWorker.Dashboard;

/// <summary>What <c>AddAgentDashboard</c> read from configuration and options, for the pipeline and the pages (one per app).</summary>
/// <param name="Users">The dashboard's users (<c>Dashboard:Users</c>); none with the host's own sign-in.</param>
/// <param name="Oidc">The OpenID Connect provider (<c>Dashboard:Oidc</c>), or null.</param>
/// <param name="SessionScheme">The scheme of a signed-in session: the dashboard's cookie, or the host's own.</param>
/// <param name="SignIn">Whether anyone signs in (users, a provider or the host's scheme); without, local requests only.</param>
/// <param name="BuiltInSignIn">Whether the sign-in is the dashboard's own (<c>/login</c>, <c>/logout</c>).</param>
/// <param name="DefaultModel">The model of tasks that name none (<c>Llm:Model</c>), shown until a task has run on one.</param>
internal sealed record AgentDashboardSettings(
    IReadOnlyDictionary<string, DashboardUser> Users, DashboardOidcOptions? Oidc, string SessionScheme, bool SignIn, bool BuiltInSignIn,
    string? DefaultModel)
{
    /// <summary>Where <c>UseAgentDashboard</c> mapped the dashboard (the sign-in page sends users back there).</summary>
    public string DashboardPath { get; set; } = "/hangfire";
}
