using System.Globalization;
using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary>Adds the agent pages ("Agent tasks", "Agent batches") and their menu entries to the Hangfire dashboard.</summary>
internal static class AgentDashboardPages
{
    public static void Register()
    {
        DashboardRoutes.Routes.AddRazorPage("/agent/tasks", _ => new AgentTasksPage());
        DashboardRoutes.Routes.AddRazorPage("/agent/tasks/(?<id>\\d{1,18})", match => new AgentTaskPage(Id(match)));
        DashboardRoutes.Routes.AddRazorPage("/agent/batches", _ => new AgentBatchesPage());
        DashboardRoutes.Routes.AddRazorPage("/agent/batches/(?<id>\\d{1,18})", match => new AgentBatchPage(Id(match)));
        DashboardRoutes.Routes.Add("/agent/batches/(?<id>\\d{1,18})/results\\.csv", new BatchResultsCsvDispatcher());
        DashboardRoutes.Routes.AddRazorPage("/agent/pool", _ => new AgentPoolPage());
        NavigationMenu.Items.Add(page => new MenuItem("Agent tasks", page.Url.To("/agent/tasks"))
        {
            Active = page.RequestPath.StartsWith("/agent/tasks", StringComparison.Ordinal),
        });
        NavigationMenu.Items.Add(page => new MenuItem("Agent batches", page.Url.To("/agent/batches"))
        {
            Active = page.RequestPath.StartsWith("/agent/batches", StringComparison.Ordinal),
        });
        NavigationMenu.Items.Add(page => new MenuItem("Agent workers", page.Url.To("/agent/pool"))
        {
            Active = page.RequestPath.StartsWith("/agent/pool", StringComparison.Ordinal),
        });
    }

    private static long Id(System.Text.RegularExpressions.Match match) =>
        long.Parse(match.Groups["id"].Value, CultureInfo.InvariantCulture);
}
