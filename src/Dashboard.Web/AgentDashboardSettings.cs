namespace AgentWorker.Dashboard;

/// <summary>What <c>AddAgentDashboard</c> read from configuration and options, for the pipeline and the pages (one per app).</summary>
internal sealed record AgentDashboardSettings(
    IReadOnlyDictionary<string, DashboardUser> Users, DashboardOidcOptions? Oidc, string SessionScheme, bool SignIn, bool BuiltInSignIn)
{
    /// <summary>Where <c>UseAgentDashboard</c> mapped the dashboard (the sign-in page sends users back there).</summary>
    public string DashboardPath { get; set; } = "/hangfire";
}
