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
        var api = endpoints.MapGroup("/api/tasks").WithTags("Tasks");
        api.MapPost("/", EnqueueAsync).WithSummary("Enqueue a task (same rules as agent.enqueue)");
        api.MapGet("/", ListAsync).WithSummary("List tasks, newest first; page with ?before=<id>");
        api.MapGet("/{id:long}", GetAsync).WithSummary("A task with its result, usage and steps");
        api.MapPost("/{id:long}/cancel", CancelAsync).WithSummary("Cancel a queued task or stop a running one");
    }

    private static async Task<IResult> ListAsync(
        ITaskClient tasks, CancellationToken cancellationToken, string? status = null, long? batch = null, int limit = 50, long? before = null)
    {
        if (status is not null && !TaskStatuses.All.Contains(status))
        {
            return Problem($"status must be one of {string.Join(", ", TaskStatuses.All)}; got '{status}'.");
        }
        if (limit is < 1 or > 500)
        {
            return Problem($"limit must be between 1 and 500; got {limit}.");
        }
        var items = await tasks.ListAsync(status, batch, limit, before, cancellationToken);
        string? next = null;
        if (items.Count == limit)
        {
            var query = new List<string> { $"limit={limit}", $"before={items[^1].Id}" };
            if (status is not null)
            {
                query.Add("status=" + status);
            }
            if (batch is not null)
            {
                query.Add($"batch={batch}");
            }
            next = "/api/tasks?" + string.Join('&', query);
        }
        return Results.Json(new { items, next }, Json);
    }

    private static async Task<IResult> CancelAsync(long id, ITaskClient tasks, CancellationToken cancellationToken)
    {
        if (await tasks.CancelAsync(id, cancellationToken))
        {
            return Results.Json(new { id, cancel_requested = true }, Json, statusCode: StatusCodes.Status202Accepted);
        }
        var task = await tasks.GetAsync(id, cancellationToken);
        return task is null
            ? Results.Problem(title: "Task not found", detail: $"There is no task {id}.", statusCode: StatusCodes.Status404NotFound)
            : Results.Problem(title: "Task already finished", detail: $"Task {id} is {task.Status}; only queued or running tasks can be cancelled.",
                statusCode: StatusCodes.Status409Conflict);
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
