using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Dashboard;

/// <summary><c>POST /api/tasks</c> and <c>GET /api/tasks/{id}</c>. JSON in snake_case; errors as problem details.</summary>
internal static class TaskApi
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void MapTaskApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/tasks", EnqueueAsync);
        endpoints.MapGet("/api/tasks/{id:long}", GetAsync);
    }

    private static async Task<IResult> EnqueueAsync(HttpRequest request, ITaskClient tasks, CancellationToken cancellationToken)
    {
        EnqueueBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<EnqueueBody>(request.Body, Json, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Problem("The body is not valid task JSON: " + ex.Message
                + " Expected {\"prompt\": \"...\", optional: instructions, model, priority, max_steps, idempotency_key, run_at, deadline, tool_config}.");
        }
        if (body is null)
        {
            return Problem("The body must be a JSON object with at least \"prompt\".");
        }
        try
        {
            var id = await tasks.EnqueueAsync(new EnqueueRequest
            {
                Prompt = body.Prompt ?? "",
                Instructions = body.Instructions,
                Model = body.Model,
                Priority = body.Priority ?? 0,
                MaxSteps = body.MaxSteps ?? 20,
                IdempotencyKey = body.IdempotencyKey,
                RunAt = body.RunAt,
                Deadline = body.Deadline,
                ToolConfig = body.ToolConfig,
            }, cancellationToken);
            return Results.Json(new { id, url = $"/api/tasks/{id}" }, Json, statusCode: StatusCodes.Status201Created);
        }
        catch (TaskValidationException ex)
        {
            return Problem(ex.Message);
        }
    }

    private static async Task<IResult> GetAsync(long id, ITaskClient tasks, CancellationToken cancellationToken)
    {
        var task = await tasks.GetAsync(id, cancellationToken);
        return task is null
            ? Results.Problem(title: "Task not found", detail: $"There is no task {id}.", statusCode: StatusCodes.Status404NotFound)
            : Results.Json(task, Json);
    }

    private static IResult Problem(string detail) =>
        Results.Problem(title: "Invalid task", detail: detail, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>The POST body. Unknown properties are refused, so a typo is an error, not a silent default.</summary>
    private sealed record EnqueueBody(
        string? Prompt,
        string? Instructions,
        string? Model,
        int? Priority,
        int? MaxSteps,
        string? IdempotencyKey,
        DateTimeOffset? RunAt,
        DateTimeOffset? Deadline,
        JsonObject? ToolConfig);
}
