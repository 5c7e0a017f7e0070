using AgentWorker.Dashboard.Pages;
using AgentWorker.Hosting;
using AgentWorker.Jobs.Hosting;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Hangfire;
using AgentWorker.Jobs.Telemetry;
using Hangfire;
using OpenTelemetry.Trace;

namespace AgentWorker.Dashboard;

/// <summary>
/// The operator's process: the Hangfire dashboard at <c>/hangfire</c> and the task REST API. It runs no jobs.
/// Listens on loopback (http://127.0.0.1:5080) unless <c>--urls</c> says otherwise.
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
        }
        builder.Services.AddHostLogging(builder.Configuration);
        builder.Services.AddProblemDetails();
        builder.Services.AddTaskApiDocument();
        var apiKey = builder.Configuration.GetSection(ApiKeyOptions.SectionName).Get<ApiKeyOptions>() ?? new ApiKeyOptions();
        var urls = (builder.Configuration["urls"] ?? builder.Configuration["ASPNETCORE_URLS"] ?? DefaultUrl)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var users = DashboardSignIn.Users(builder.Configuration);
        var oidc = DashboardOidcOptions.From(builder.Configuration);
        var signIn = users.Count > 0 || oidc is not null;
        ExposureCheck.EnsureProtectedWhenExposed(urls, apiKey, signIn);
        if (string.IsNullOrEmpty(builder.Configuration["AllowedHosts"]) && urls.All(ApiKeyCheck.IsLoopback))
        {
            // On loopback, only loopback names: a page on another site that rebinds its name to 127.0.0.1 is refused.
            builder.Configuration["AllowedHosts"] = "localhost;127.0.0.1;[::1]";
        }
        builder.Services.AddDashboardSignIn(oidc);
        builder.Services.AddApiAccess(apiKey, signIn);
        builder.Services.AddHostedService<MigrateOnStart>();
        builder.Services.AddAgentTasks(builder.Configuration);
        builder.Services.AddAgentOpenTelemetry(builder.Configuration, "agent-dashboard", traces => traces.AddAspNetCoreInstrumentation(
            options => options.Filter = context => !IsPolling(context.Request.Path)));
        var app = AgentJobsServiceCollectionExtensions.AppConnectionString(builder.Configuration);
        builder.Services.AddHangfire(hangfire => CancelTaskOnJobDeleted.Register(hangfire.UseAgentStorage(app), app));
        builder.Services.AddSingleton<AgentTaskQueries>();

        var web = builder.Build();
        web.UseExceptionHandler();
        web.UseTaskApiErrors();
        web.UseSignInSessions();
        // Who may use an endpoint is said on the endpoint (never by how a path is spelt): open, the API's policy, the dashboard's.
        var open = web.MapGroup("").AllowAnonymous();
        open.MapGet("/", () => Results.Redirect("/hangfire"));
        open.MapHealth();
        open.MapSignIn(users, oidc);
        var api = web.MapGroup("").RequireAuthorization(ApiAccess.Policy);
        api.MapOpenApi(TaskApiDocument.Path);
        api.MapTaskApi();
        api.MapBatchApi();
        RegisterPagesOnce();
        web.UseJobIdCheck();
        // With users or OIDC: signed-in users only, viewers read-only. Without: local requests only (the host is on loopback).
        var dashboard = web.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            DashboardTitle = "Agent worker",
            DisplayStorageConnectionString = false,
            Authorization = [new DashboardSignIn.AuthorizationFilter(signIn)],
            IsReadOnlyFunc = context => DashboardSignIn.IsReadOnly(context, signIn),
        });
        if (signIn)
        {
            dashboard.RequireAuthorization(DashboardSignIn.Policy);
        }
        else
        {
            dashboard.AllowAnonymous();
        }
        return web;
    }

    /// <summary>Requests that come every few seconds by themselves (health probes, the dashboard's live numbers): not traced.</summary>
    private static bool IsPolling(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/hangfire/stats");

    private static int s_pagesRegistered;

    /// <summary>Hangfire's routes and menu are process-wide: register the agent pages once per process.</summary>
    private static void RegisterPagesOnce()
    {
        if (Interlocked.Exchange(ref s_pagesRegistered, 1) == 0)
        {
            AgentDashboardPages.Register();
        }
    }
}
