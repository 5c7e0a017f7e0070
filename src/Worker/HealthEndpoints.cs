using AgentWorker.Jobs.Hosting;

namespace AgentWorker.Hosting;

/// <summary>
/// <c>/healthz</c> (liveness: the process answers) and <c>/readyz</c> (readiness: 200 when every check of
/// <see cref="Readiness"/> passes, else 503; the body lists each check). Shared by the worker and the dashboard.
/// </summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints)
    {
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(endpoints, "/healthz", () => Microsoft.AspNetCore.Http.Results.Text("ok"));
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(endpoints, "/readyz", async (Readiness readiness, CancellationToken cancellationToken) =>
        {
            var checks = await readiness.CheckAsync(cancellationToken);
            var ready = checks.All(c => c.Ok);
            return Microsoft.AspNetCore.Http.Results.Json(new { status = ready ? "ready" : "not_ready", checks = checks.Select(c => new { name = c.Name, ok = c.Ok, detail = c.Detail }) },
                statusCode: ready ? Microsoft.AspNetCore.Http.StatusCodes.Status200OK : Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable);
        });
    }
}
