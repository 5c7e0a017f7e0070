using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// Serves an <see cref="AgentPage"/>: awaits its <see cref="AgentPage.LoadAsync"/>, then renders it as Hangfire renders
/// its own pages (through a one-route <see cref="Hangfire.Dashboard.RouteCollection"/>: Hangfire's page dispatcher is not public).
/// </summary>
internal sealed class AgentPageDispatcher(Func<System.Text.RegularExpressions.Match, AgentPage> create) : IDashboardDispatcher
{
    public async Task Dispatch(DashboardContext context)
    {
        var page = create(context.UriMatch);
        await page.LoadAsync(context, context.GetHttpContext().RequestAborted);
        var render = new Hangfire.Dashboard.RouteCollection();
        render.AddRazorPage("/", _ => page);
        await render.FindDispatcher("/").Item1.Dispatch(context);
    }
}
