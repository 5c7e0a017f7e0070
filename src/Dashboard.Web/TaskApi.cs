using System.Text.Json;
using System.Text.Json.Serialization;
using AgentWorker.Jobs.Tasks;
using Microsoft.Net.Http.Headers;

namespace AgentWorker.Dashboard;

/// <summary>
/// The task REST API under <c>/api/tasks</c>: enqueue, list, read, cancel, retry. JSON in snake_case; every error is a
/// problem details body (RFC 9457) that names the field and its rule in the API's own words.
/// </summary>
internal static class TaskApi
{
    /// <summary>The API's JSON: snake_case, strict (no unknown or duplicate fields, no numbers in strings).</summary>
    internal static readonly JsonSerializerOptions Json = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>The API's JSON rules, applied to <paramref name="options"/> (the OpenAPI document describes what they produce).</summary>
    internal static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // "5" is not 5: the web defaults would read numbers from strings.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowDuplicateProperties = false;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        // A time without its offset would be read in the server's zone: refused instead.
        options.Converters.Add(new OffsetRequiredConverter());
        return options;
    }

    public static void MapTaskApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/tasks").WithTags("Tasks");
        api.MapPost("/", EnqueueAsync)
            .WithName("EnqueueTask")
            .WithSummary("Enqueue a task")
            .WithDescription("Same rules as agent.enqueue. The task's own values override its agent's; an unknown agent is refused (400), nothing stored. A repeated idempotency_key with the same content returns the first task; with different content it is refused (409).")
            .Accepts<EnqueueTaskRequest>("application/json")
            .Produces<EnqueuedTask>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/", ListAsync)
            .WithName("ListTasks")
            .WithSummary("List tasks, newest first")
            .WithDescription("Filter by status and batch; page with the 'next' URL of the previous page (?before=<id>).")
            .Produces<TaskPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{id}", GetAsync)
            .WithName("GetTask")
            .WithSummary("A task with its result, usage and steps")
            .Produces<TaskDetails>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/cancel", CancelAsync)
            .WithName("CancelTask")
            .WithSummary("Cancel a queued task, or stop a running one")
            .WithDescription("200: a queued task is cancelled now. 202: a running task is asked to stop; its worker stops it within a second and keeps its steps. 409: it had already finished.")
            .Produces<CancelledTask>()
            .Produces<CancelledTask>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id}/retry", RetryAsync)
            .WithName("RetryTask")
            .WithSummary("Queue a failed or cancelled task again, resuming from its stored steps")
            .WithDescription("Same rules as agent.retry. The body is optional; max_steps replaces the task's. 409: the task is queued, running or succeeded, or its deadline has passed.")
            .Accepts<RetryTaskRequest>(isOptional: true, "application/json")
            .Produces<RetriedTask>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
    }

    private static async Task<IResult> ListAsync(
        ITaskClient tasks, CancellationToken cancellationToken, string? status = null, long? batch = null, int limit = 50, long? before = null)
    {
        if (status is not null && !TaskStatuses.All.Contains(status))
        {
            return InvalidQuery($"\"status\" must be one of {string.Join(", ", TaskStatuses.All)}; got \"{status}\".");
        }
        if (limit is < 1 or > 500)
        {
            return InvalidQuery($"\"limit\" must be an integer from 1 to 500; got {limit}.");
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
        return Results.Json(new TaskPage(items, next), Json);
    }

    private static async Task<IResult> GetAsync(long id, ITaskClient tasks, CancellationToken cancellationToken)
    {
        var task = await tasks.GetAsync(id, cancellationToken);
        return task is null ? NotFound(id) : Results.Json(task, Json);
    }

    private static async Task<IResult> CancelAsync(long id, ITaskClient tasks, CancellationToken cancellationToken)
    {
        return await tasks.CancelAsync(id, cancellationToken) switch
        {
            CancelOutcome.Cancelled => Results.Json(new CancelledTask(id, "cancelled", TaskStatuses.Cancelled), Json),
            CancelOutcome.StopRequested => Results.Json(new CancelledTask(id, "stop_requested", TaskStatuses.Running), Json,
                statusCode: StatusCodes.Status202Accepted),
            CancelOutcome.NotFound => NotFound(id),
            _ => Conflict("Task already finished",
                $"Task {id} is {(await tasks.GetAsync(id, cancellationToken))?.Status ?? "finished"}; only queued or running tasks can be cancelled."),
        };
    }

    private static async Task<IResult> RetryAsync(long id, HttpRequest request, ITaskClient tasks, CancellationToken cancellationToken)
    {
        var body = await TaskApiBody.ReadAsync<RetryTaskRequest>(request, optional: true, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        RetryOutcome outcome;
        try
        {
            outcome = await tasks.RetryAsync(id, body.Value?.MaxSteps, cancellationToken);
        }
        catch (TaskValidationException ex)
        {
            return TaskApiBody.Invalid("Invalid retry", ex.Message);
        }
        return outcome switch
        {
            RetryOutcome.Queued => Results.Json(new RetriedTask(id, "queued", $"/api/tasks/{id}"), Json, statusCode: StatusCodes.Status202Accepted),
            RetryOutcome.NotFound => NotFound(id),
            RetryOutcome.NotFinished => Conflict("Task not finished", $"Task {id} is queued or running; only a failed or cancelled task can be retried."),
            RetryOutcome.Succeeded => Conflict("Task succeeded", $"Task {id} succeeded; a succeeded task is not run again. Enqueue a new task."),
            _ => Conflict("Deadline passed", $"Task {id}'s deadline has passed; it would fail at once. Enqueue a new task."),
        };
    }

    private static async Task<IResult> EnqueueAsync(HttpRequest request, ITaskClient tasks, CancellationToken cancellationToken)
    {
        var body = await TaskApiBody.ReadAsync<EnqueueTaskRequest>(request, optional: false, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var task = body.Value!;
        try
        {
            var id = await tasks.EnqueueAsync(new EnqueueRequest
            {
                Prompt = task.Prompt ?? "",
                Instructions = task.Instructions,
                Model = task.Model,
                Priority = task.Priority ?? 0,
                MaxSteps = task.MaxSteps,
                IdempotencyKey = task.IdempotencyKey,
                RunAt = task.RunAt,
                Deadline = task.Deadline,
                ToolConfig = task.ToolConfig,
                BatchId = task.BatchId,
                Agent = task.Agent,
                Tools = task.Tools,
            }, cancellationToken);
            var url = $"/api/tasks/{id}";
            return Results.Created(url, new EnqueuedTask(id, url));
        }
        catch (TaskValidationException ex)
        {
            return TaskApiBody.Invalid("Invalid task", ex.Message);
        }
        catch (IdempotencyConflictException ex)
        {
            return Conflict("Idempotency key already used", TaskApiBody.InApiWords(ex.Message));
        }
    }

    private static IResult InvalidQuery(string detail) => TaskApiBody.Invalid("Invalid query", detail);

    private static IResult NotFound(long id) =>
        Results.Problem(title: "Task not found", detail: $"There is no task {id}.", statusCode: StatusCodes.Status404NotFound);

    private static IResult Conflict(string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);

    /// <summary>Whether the request says its body is JSON (<c>application/json</c> or any <c>+json</c> type).</summary>
    internal static bool IsJson(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>Reads ISO 8601 date-times only with their offset ("Z" or "+02:00"); writes them round-trip ("O").</summary>
    private sealed class OffsetRequiredConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            if (text is null || !System.Text.RegularExpressions.Regex.IsMatch(text, @"(Z|[+-]\d{2}:?\d{2})$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)
                || !DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var value))
            {
                throw new JsonException("a date-time with its offset is required");
            }
            return value;
        }

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }
}
