namespace AgentWorker.Dashboard;

/// <summary>
/// The names the dashboard's authorization uses, for a host that signs users in with its own scheme
/// (<see cref="AgentDashboardOptions.AuthenticationScheme"/>): give its users a role claim (<c>ClaimTypes.Role</c>) of
/// <see cref="Operator"/> or <see cref="Viewer"/>, and the policies below admit them.
/// </summary>
public static class AgentDashboardAuthorization
{
    /// <summary>The role that reads everything and changes nothing (Hangfire's buttons hidden, API writes refused).</summary>
    public const string Viewer = "viewer";

    /// <summary>The role that also deletes, requeues, triggers, cancels and enqueues.</summary>
    public const string Operator = "operator";

    /// <summary>
    /// The REST API's policy: the API key (<c>Api:Key</c>), or a signed-in session (writes: operators only), and no
    /// cross-site writes. <c>MapAgentApi</c> puts it on the API's route group; a host may put it on its own endpoints.
    /// </summary>
    public const string ApiPolicy = "agent-api";

    /// <summary>The dashboard's policy when it has sign-in: an authenticated user (a browser without one is challenged).</summary>
    public const string DashboardPolicy = "agent-dashboard";
}
