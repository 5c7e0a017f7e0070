using System.Globalization;
using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary>Adds the "Agent tasks" pages and menu entry to the Hangfire dashboard.</summary>
internal static class AgentDashboardPages
{
    public static void Register()
    {
        DashboardRoutes.Routes.AddRazorPage("/agent/tasks", _ => new AgentTasksPage());
        DashboardRoutes.Routes.AddRazorPage("/agent/tasks/(?<id>\\d+)",
            match => new AgentTaskPage(long.Parse(match.Groups["id"].Value, CultureInfo.InvariantCulture)));
        NavigationMenu.Items.Add(page => new MenuItem("Agent tasks", page.Url.To("/agent/tasks"))
        {
            Active = page.RequestPath.StartsWith("/agent", StringComparison.Ordinal),
        });
    }
}
