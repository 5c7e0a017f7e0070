using AgentWorker.Hosting;
using AgentWorker.Jobs.Telemetry;
using Hangfire;
using OpenTelemetry.Trace;

namespace AgentWorker.Dashboard;

/// <summary>
/// The operator's process: the Hangfire dashboard at <c>/hangfire</c> and the task REST API. It runs no jobs.
/// Listens on loopback (http://127.0.0.1:5080) unless <c>--urls</c> says otherwise. A host on the packages' public API
/// (<c>AddAgentDashboard</c>, <c>MapAgentApi</c>, <c>UseAgentDashboard</c>), as any user's would be.
/// </summary>
public static class DashboardApp
{
    /// <summary>Loopback only, so the API needs no key and the dashboard admits local requests.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
            builder.Configuration["urls"] = DefaultUrl;
        }
        builder.Services.AddHostLogging(builder.Configuration);
        // Every endpoint says who may use it; one that says nothing gets the API's policy, not open access.
        builder.Services.AddAgentDashboard(builder.Configuration, dashboard => dashboard.LockEndpointsWithoutPolicy = true);
        builder.Services.AddAgentTasks(builder.Configuration);
        builder.Services.AddHealthChecks().AddAgentWorkerChecks();
        builder.Services.AddAgentOpenTelemetry(builder.Configuration, "agent-dashboard", traces => traces.AddAspNetCoreInstrumentation(
            options => options.Filter = context => !IsPolling(context.Request.Path)));
        builder.Services.AddHangfire((services, hangfire) => hangfire.UseAgentStorage(builder.Configuration).UseAgentWorker(services));

        var web = builder.Build();
        web.UseExceptionHandler();
        var open = web.MapGroup("").AllowAnonymous();
        open.MapGet("/", () => Results.Redirect("/hangfire"));
        open.MapHealth();
        web.MapAgentApi();
        web.UseAgentDashboard("/hangfire");
        return web;
    }

    /// <summary>Requests that come every few seconds by themselves (health probes, the dashboard's live numbers): not traced.</summary>
    private static bool IsPolling(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/hangfire/stats");
}
