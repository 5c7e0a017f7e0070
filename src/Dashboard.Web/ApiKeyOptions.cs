namespace AgentWorker.Dashboard;

/// <summary>Access to <c>/api</c>. Section <c>Api</c> (environment <c>Api__Key</c>).</summary>
public sealed class ApiKeyOptions
{
    public const string SectionName = "Api";

    /// <summary>
    /// The key clients send as <c>Authorization: Bearer ...</c> or <c>X-Api-Key</c>. Required as soon as the host
    /// listens on anything but loopback; without it a loopback-only host serves the API to local callers.
    /// </summary>
    public string? Key { get; set; }
}
