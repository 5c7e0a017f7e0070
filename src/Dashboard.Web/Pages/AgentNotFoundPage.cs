namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// A 404 in the dashboard's layout for an address that names nothing: an agent page with an id that is not a number
/// (<c>/agent/tasks/abc</c>), or a Hangfire job id that cannot be one (<c>/jobs/details/abc</c>, which Hangfire.PostgreSql
/// would answer with a 500).
/// </summary>
internal sealed class AgentNotFoundPage(string message) : AgentPage
{
    protected override string Title => "Not found";

    protected override void Render() => NotFound(message);
}
