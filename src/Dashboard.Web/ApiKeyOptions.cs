namespace AgentWorker.Dashboard;

/// <summary>Access to the REST API (<c>/api</c>), read by <c>AddAgentDashboard</c>. Section <c>Api</c> (environment <c>Api__Key</c>).</summary>
internal sealed class ApiKeyOptions
{
    /// <summary>The configuration section: <c>Api</c>.</summary>
    public const string SectionName = "Api";

    /// <summary>
    /// The key clients send as <c>Authorization: Bearer ...</c> or <c>X-Api-Key</c>. Required as soon as the host
    /// listens on anything but loopback; without it a loopback-only host serves the API to local callers.
    /// </summary>
    public string? Key { get; set; }
}
