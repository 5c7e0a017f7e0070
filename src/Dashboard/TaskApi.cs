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
        // "5" is not 5: the web defaults would read numbers from strings.
        NumberHandling = JsonNumberHandling.Strict,
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
            return Problem(DescribeBodyError(ex));
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

    private const string Fields =
        "prompt (required), instructions, model, priority, max_steps, idempotency_key, run_at, deadline, tool_config";

    private const string DateTimeRule = "a date-time in ISO 8601 with its offset, e.g. \"2026-01-01T02:00:00Z\"";

    /// <summary>What each field of the body must be, in the API's own words.</summary>
    private static readonly Dictionary<string, string> s_fieldRules = new(StringComparer.Ordinal)
    {
        ["prompt"] = "a string",
        ["instructions"] = "a string",
        ["model"] = "a string",
        ["priority"] = "an integer from -10 to 10",
        ["max_steps"] = "an integer from 1 to 200",
        ["idempotency_key"] = "a string",
        ["run_at"] = DateTimeRule,
        ["deadline"] = DateTimeRule,
        ["tool_config"] = "a JSON object",
    };

    /// <summary>A body the serializer refused, said in the API's words: the field and its rule, never a .NET type.</summary>
    internal static string DescribeBodyError(JsonException exception)
    {
        if (System.Text.RegularExpressions.Regex.Match(exception.Message, "The JSON property '(.+?)' could not be mapped") is { Success: true } unknown)
        {
            return $"\"{unknown.Groups[1].Value}\" is not a field of a task. The fields are: {Fields}.";
        }
        var field = exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        if (field is not null && s_fieldRules.TryGetValue(field, out var rule))
        {
            return $"\"{field}\" must be {rule}.";
        }
        var where = exception.LineNumber is { } line ? $" (line {line + 1}, position {exception.BytePositionInLine + 1})" : "";
        return $"The body is not a valid JSON object{where}. Expected {{\"prompt\": \"...\"}} with any of: {Fields}.";
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
