using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace AgentWorker.Hosting;

/// <summary>
/// <c>/healthz</c> (liveness: the process answers) and <c>/readyz</c> (readiness: 200 when every check tagged
/// <see cref="Microsoft.Extensions.DependencyInjection.AgentHealthChecks.ReadyTag"/> passes, else 503; the body lists
/// each check).
/// </summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints)
    {
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(endpoints, "/healthz", () => Microsoft.AspNetCore.Http.Results.Text("ok"));
        Microsoft.AspNetCore.Builder.HealthCheckEndpointRouteBuilderExtensions.MapHealthChecks(endpoints, "/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Microsoft.Extensions.DependencyInjection.AgentHealthChecks.ReadyTag),
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "application/json; charset=utf-8";
                return Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, Microsoft.Extensions.DependencyInjection.AgentHealthChecks.ToJson(report));
            },
        });
    }
}
