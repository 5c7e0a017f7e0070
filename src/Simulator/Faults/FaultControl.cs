using System.Text.Json;

namespace AgentWorker.Simulator.Faults;

/// <summary>
/// <c>POST /sim/faults</c> (a fault as JSON, or <c>?spec=drop:after_events=3</c>) adds a fault; <c>GET</c> lists the
/// pending ones; <c>DELETE</c> clears them. Same grammar as <c>--Simulator:Faults</c>.
/// </summary>
internal static class FaultControl
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static void MapFaultControl(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/sim/faults", (FaultInjector faults) => Results.Json(faults.PendingFaults(), Json));
        endpoints.MapDelete("/sim/faults", (FaultInjector faults) =>
        {
            faults.Clear();
            return Results.NoContent();
        });
        endpoints.MapPost("/sim/faults", async (HttpRequest request, FaultInjector faults) =>
        {
            try
            {
                var spec = request.Query["spec"] is { Count: > 0 } text
                    ? FaultSpec.Parse(text.ToString())
                    : await JsonSerializer.DeserializeAsync<FaultSpec>(request.Body, Json, request.HttpContext.RequestAborted)
                        ?? throw new FormatException("The body must be a fault object, e.g. {\"kind\": \"drop\", \"after_events\": 3}.");
                faults.Add(spec);
                // The fault as understood, and what is now pending: a caller sees its spec was read as meant.
                return Results.Json(new { added = spec, pending = faults.PendingFaults() }, Json, statusCode: StatusCodes.Status201Created);
            }
            catch (Exception ex) when (ex is FormatException or JsonException)
            {
                return Results.Problem(title: "Invalid fault", detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
            }
        });
    }
}
