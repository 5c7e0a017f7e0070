using System.Globalization;
using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary>Adds the agent pages ("Agent tasks", "Agent batches") and their menu entries to the Hangfire dashboard.</summary>
internal static class AgentDashboardPages
{
    private static int s_registered;

    /// <summary>
    /// Hangfire's routes, menu, metrics and job renderers are process-wide: the first call registers the pages, later
    /// calls (a second app in the same process) do nothing.
    /// </summary>
    public static void RegisterOnce()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            Register();
        }
    }

    private static void Register()
    {
        AddHomeMetrics();
        DashboardRoutes.Routes.Add("/agent/tasks", new AgentPageDispatcher(_ => new AgentTasksPage()));
        DashboardRoutes.Routes.Add("/agent/tasks/(?<id>\\d{1,18})", new AgentPageDispatcher(match => new AgentTaskPage(Id(match))));
        DashboardRoutes.Routes.Add("/agent/batches", new AgentPageDispatcher(_ => new AgentBatchesPage()));
        DashboardRoutes.Routes.Add("/agent/batches/(?<id>\\d{1,18})", new AgentPageDispatcher(match => new AgentBatchPage(Id(match))));
        DashboardRoutes.Routes.Add("/agent/batches/(?<id>\\d{1,18})/results\\.csv", new BatchResultsCsvDispatcher());
        DashboardRoutes.Routes.Add("/agent/pool", new AgentPageDispatcher(_ => new AgentPoolPage()));
        DashboardRoutes.Routes.Add("/agent/no-such-job", new AgentPageDispatcher(_ => new AgentNotFoundPage("There is no such job: a job id is a number.")));
        // Last, so it answers only what no route above takes.
        DashboardRoutes.Routes.Add("/agent/.*", new AgentPageDispatcher(match => new AgentNotFoundPage($"There is no page at {match.Value}.")));
        AddJobPageLink();
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

    /// <summary>
    /// Hangfire.PostgreSql answers a job page whose id is not a number with a 500 (it parses the id): such a request is
    /// shown the dashboard's 404 instead.
    /// </summary>
    public static void UseJobIdCheck(this IApplicationBuilder app, string dashboardPath) => app.Use((context, next) =>
    {
        var prefix = dashboardPath + "/jobs/details/";
        var path = context.Request.Path.Value;
        if (path is not null && path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && !long.TryParse(path.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            context.Request.Path = dashboardPath + "/agent/no-such-job";
        }
        return next(context);
    });

    /// <summary>On the page of a job that mirrors an agent task, a link to the task's page.</summary>
    private static void AddJobPageLink() =>
        Hangfire.GlobalConfigurationExtensions.UseJobDetailsRenderer(Hangfire.GlobalConfiguration.Configuration, 10, dto =>
        {
            if (dto.JobDetails?.Job is not { } job || job.Type != typeof(AgentWorker.Jobs.Hangfire.AgentTaskJob) || job.Args is not [long taskId, ..])
            {
                return new NonEscapedString("");
            }
            var url = dto.Page.Url.To("/agent/tasks/" + taskId.ToString(CultureInfo.InvariantCulture));
            return new NonEscapedString(
                $"<div class=\"alert alert-info agent-job-task\">This job mirrors <a href=\"{url}\"><strong>agent task #{taskId}</strong></a>: " +
                "its steps, timeline, tokens and result are on the task's page.</div>");
        });

    /// <summary>The agent's numbers on Hangfire's home page, beside its own.</summary>
    private static void AddHomeMetrics()
    {
        // Another app in the process may serve a plain Hangfire dashboard (the metrics are process-wide): zeros there.
        static AgentTaskQueries.HomeNumbers Numbers(RazorPage page) =>
            page.Context.GetHttpContext().RequestServices.GetService<AgentTaskQueries>()?.Home() ?? new AgentTaskQueries.HomeNumbers();
        static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
        DashboardMetric[] metrics =
        [
            new("agent:queued", "Agent tasks queued", page => new Metric(N(Numbers(page).Queued))),
            new("agent:running", "Agent tasks running", page => new Metric(N(Numbers(page).Running)) { Style = MetricStyle.Info }),
            new("agent:succeeded-today", "Agent tasks succeeded today", page => new Metric(N(Numbers(page).SucceededToday)) { Style = MetricStyle.Success }),
            new("agent:failed-today", "Agent tasks failed today", page =>
            {
                var failed = Numbers(page).FailedToday;
                return new Metric(N(failed)) { Style = failed > 0 ? MetricStyle.Danger : MetricStyle.Default };
            }),
            new("agent:tokens-today", "Tokens today", page => new Metric(N(Numbers(page).TokensToday))),
            new("agent:median-turn", "Median model turn (last hour)", page =>
                new Metric(Numbers(page).MedianTurnMs is { } ms ? ms.ToString("F0", CultureInfo.InvariantCulture) + " ms" : "none")),
            new("agent:sockets", "Sockets leased / idle", page => new Metric($"{N(Numbers(page).SocketsLeased)} / {N(Numbers(page).SocketsIdle)}")),
        ];
        // Hangfire's home page shows the metrics given to UseDashboardMetrics, after its own.
        Hangfire.GlobalConfigurationExtensions.UseDashboardMetrics(Hangfire.GlobalConfiguration.Configuration, metrics);
    }

    private static long Id(System.Text.RegularExpressions.Match match) =>
        long.Parse(match.Groups["id"].Value, CultureInfo.InvariantCulture);
}
