namespace AgentWorker.Dashboard;

/// <summary>How <c>AddAgentDashboard</c> sets the dashboard and the REST API up, beyond what configuration says.</summary>
public sealed class AgentDashboardOptions
{
    /// <summary>
    /// The host's own authentication scheme (cookies, OpenID Connect, Identity ...), or null (default) for the
    /// dashboard's own sign-in: users (<c>Dashboard:Users</c>) and OpenID Connect (<c>Dashboard:Oidc</c>) from configuration,
    /// a cookie session and <c>/login</c>. With a scheme, none of those is registered: the dashboard and the API admit
    /// whoever that scheme authenticates, as a <see cref="AgentDashboardAuthorization.Viewer"/> unless their role claim is
    /// <see cref="AgentDashboardAuthorization.Operator"/>; the host calls <c>UseAuthentication</c> and signs users in.
    /// </summary>
    public string? AuthenticationScheme { get; set; }

    /// <summary>
    /// Makes the API's policy the app's fallback policy, so any endpoint that names no policy of its own is locked rather
    /// than open. Default false: in someone else's app the other endpoints are its business. The project's own dashboard
    /// host turns it on.
    /// </summary>
    public bool LockEndpointsWithoutPolicy { get; set; }
}
