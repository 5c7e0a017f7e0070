using AgentWorker.Dashboard;
using AgentWorker.Dashboard.Pages;
using AgentWorker.Jobs.Tasks;
using Hangfire;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Serves the agent REST API and the Hangfire dashboard with the agent pages in an ASP.NET Core app.</summary>
public static class AgentDashboardEndpointExtensions
{
    private const string PipelineAdded = "AgentWorker.Dashboard.Pipeline";

    /// <summary>
    /// Maps the task and batch REST API (<c>/api/tasks</c>, <c>/api/batches</c>, <c>/api/schedules</c>, <c>/api/agents</c>) and its OpenAPI
    /// document (<c>/api/openapi.json</c>), all under the <see cref="AgentDashboardAuthorization.ApiPolicy"/> policy, and
    /// adds the middleware they need (authentication, authorization, antiforgery, the API's problem bodies) once.
    /// </summary>
    /// <returns>The API's route group, for more conventions (rate limiting, CORS ...).</returns>
    /// <exception cref="InvalidOperationException"><c>AddAgentDashboard</c> or <c>AddAgentTasks</c> was not called.</exception>
    public static RouteGroupBuilder MapAgentApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAgentPipeline();
        var api = app.MapGroup("").RequireAuthorization(AgentDashboardAuthorization.ApiPolicy);
        api.MapOpenApi(TaskApiDocument.Path);
        api.MapTaskApi();
        api.MapBatchApi();
        api.MapNamedAgentApi();
        return api;
    }

    /// <summary>
    /// Serves the Hangfire dashboard at <paramref name="path"/> with the agent pages (tasks, batches, workers), and the
    /// dashboard's sign-in (<c>/login</c>, <c>/logout</c>, <c>/login/oidc</c>) unless the host signs users in itself. With
    /// sign-in, signed-in users only and viewers read-only; without, local requests only (the app then refuses to listen
    /// beyond loopback). The agent pages are registered with Hangfire once per process (its routes are global).
    /// </summary>
    /// <returns>The dashboard's endpoint, for more conventions.</returns>
    /// <exception cref="InvalidOperationException"><c>AddAgentDashboard</c>, <c>AddAgentTasks</c> or <c>AddHangfire</c> was not called.</exception>
    public static IEndpointConventionBuilder UseAgentDashboard(this WebApplication app, string path = "/hangfire")
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path[0] != '/' || path.EndsWith('/'))
        {
            throw new ArgumentException($"The dashboard's path must start with '/' and not end with one; got '{path}'.", nameof(path));
        }
        var settings = app.UseAgentPipeline();
        if (app.Services.GetService<JobStorage>() is null)
        {
            throw new InvalidOperationException(
                "The agent dashboard needs Hangfire: call services.AddHangfire(configuration => configuration.UseAgentStorage(connectionString)) first.");
        }
        settings.DashboardPath = path;
        if (settings.BuiltInSignIn)
        {
            app.MapGroup("").AllowAnonymous().MapSignIn(settings.Users, settings.Oidc, path);
        }
        AgentDashboardPages.RegisterOnce();
        app.UseJobIdCheck(path);
        var signIn = settings.SignIn;
        var dashboard = app.MapHangfireDashboard(path, new DashboardOptions
        {
            DashboardTitle = "Agent worker",
            DisplayStorageConnectionString = false,
            Authorization = [new DashboardSignIn.AuthorizationFilter(signIn)],
            IsReadOnlyFunc = context => DashboardSignIn.IsReadOnly(context, signIn),
        });
        return signIn ? dashboard.RequireAuthorization(AgentDashboardAuthorization.DashboardPolicy) : dashboard.AllowAnonymous();
    }

    /// <summary>The middleware both entry points need, added once per app by whichever is called first.</summary>
    private static AgentDashboardSettings UseAgentPipeline(this WebApplication app)
    {
        var settings = app.Services.GetService<AgentDashboardSettings>()
            ?? throw new InvalidOperationException("Call services.AddAgentDashboard(configuration) before MapAgentApi or UseAgentDashboard.");
        if (app.Services.GetService<ITaskClient>() is null)
        {
            throw new InvalidOperationException(
                "The agent API and pages read tasks: call services.AddAgentTasks(configuration) (or AddAgentWorker) as well.");
        }
        if (!((IApplicationBuilder)app).Properties.ContainsKey(PipelineAdded))
        {
            ((IApplicationBuilder)app).Properties[PipelineAdded] = true;
            app.UseTaskApiErrors();
            app.UseSignInSessions();
        }
        return settings;
    }
}
