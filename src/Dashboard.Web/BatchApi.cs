using AgentWorker.Jobs.Batches;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Dashboard;

/// <summary>
/// Batches and schedules over REST: <c>/api/batches</c> (create, list, read, cancel, results as JSON or CSV) and
/// <c>/api/schedules</c> (list, create, read, replace, delete, trigger). Same rules as the SQL API; errors are problem
/// details naming the field.
/// </summary>
internal static class BatchApi
{
    /// <summary>How long a create waits for a worker to expand a template batch before answering 202 (still pending).</summary>
    private static readonly TimeSpan s_expansionWait = TimeSpan.FromSeconds(10);

    public static void MapBatchApi(this IEndpointRouteBuilder endpoints)
    {
        var batches = endpoints.MapGroup("/api/batches").WithTags("Batches");
        batches.MapPost("/", CreateAsync)
            .WithName("CreateBatch")
            .WithSummary("Create a batch from prompts, or from a template over the rows of a read-only query")
            .WithDescription("201: created with its tasks. A template batch is expanded by a worker (its query runs as the tools' reader login): the answer waits for it up to 10 s; 400 when its query or template cannot be used (nothing is kept), 202 when no worker expanded it in time (status pending).")
            .Accepts<CreateBatchRequest>("application/json")
            .Produces<BatchDetails>(StatusCodes.Status201Created)
            .Produces<BatchDetails>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        batches.MapGet("/", ListAsync)
            .WithName("ListBatches")
            .WithSummary("List batches, newest first")
            .Produces<BatchPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        batches.MapGet("/{id}", GetAsync)
            .WithName("GetBatch")
            .WithSummary("A batch: counts by status, progress, times and token totals")
            .Produces<BatchDetails>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        batches.MapPost("/{id}/cancel", CancelAsync)
            .WithName("CancelBatch")
            .WithSummary("Cancel a batch: its queued tasks now, its running ones within a second")
            .Produces<CancelledBatch>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        batches.MapGet("/{id}/results", ResultsAsync)
            .WithName("GetBatchResults")
            .WithSummary("Every task of the batch with its result, as JSON, or as CSV with 'Accept: text/csv'")
            .Produces<IReadOnlyList<BatchResult>>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        batches.MapGet("/{id}/results.csv", ResultsCsvAsync)
            .WithName("GetBatchResultsCsv")
            .WithSummary("The batch's results as CSV (RFC 4180, UTF-8 with BOM)")
            .Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        var schedules = endpoints.MapGroup("/api/schedules").WithTags("Schedules");
        schedules.MapGet("/", ListSchedulesAsync)
            .WithName("ListSchedules")
            .WithSummary("Every schedule, by name")
            .Produces<IReadOnlyList<ScheduleDetails>>();
        schedules.MapPost("/", CreateScheduleAsync)
            .WithName("CreateSchedule")
            .WithSummary("Create a schedule")
            .WithDescription("201: created. 200: a schedule of that name with the same content exists. 409: one with other content exists (PUT replaces).")
            .Accepts<CreateScheduleRequest>("application/json")
            .Produces<ScheduleDetails>(StatusCodes.Status201Created)
            .Produces<ScheduleDetails>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        schedules.MapGet("/{name}", GetScheduleAsync)
            .WithName("GetSchedule")
            .WithSummary("A schedule with its last batch")
            .Produces<ScheduleDetails>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPut("/{name}", PutScheduleAsync)
            .WithName("PutSchedule")
            .WithSummary("Create or replace a schedule; the workers make it a Hangfire recurring job within a second")
            .Accepts<ScheduleBody>("application/json")
            .Produces<ScheduleDetails>(StatusCodes.Status201Created)
            .Produces<ScheduleDetails>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        schedules.MapDelete("/{name}", DeleteScheduleAsync)
            .WithName("DeleteSchedule")
            .WithSummary("Delete a schedule (its batches stay)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{name}/trigger", TriggerScheduleAsync)
            .WithName("TriggerSchedule")
            .WithSummary("Fire a schedule now: one new batch")
            .Produces<TriggeredSchedule>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, IBatchClient batches, CancellationToken cancellationToken)
    {
        var body = await TaskApiBody.ReadAsync<CreateBatchRequest>(request, optional: false, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var batch = body.Value!;
        long id;
        try
        {
            id = await batches.CreateAsync(new BatchRequest
            {
                Name = batch.Name ?? "",
                Prompts = batch.Prompts,
                Template = batch.Template,
                SourceSql = batch.SourceSql,
                Instructions = batch.Instructions,
                Model = batch.Model,
                Priority = batch.Priority ?? 0,
                MaxSteps = batch.MaxSteps,
                Deadline = batch.Deadline,
                FollowUp = batch.FollowUp,
                IdempotencyKey = batch.IdempotencyKey,
                Agent = batch.Agent,
            }, cancellationToken);
        }
        catch (TaskValidationException ex)
        {
            return TaskApiBody.Invalid("Invalid batch", ex.Message);
        }
        catch (IdempotencyConflictException ex)
        {
            return Results.Problem(title: "Idempotency key already used", detail: TaskApiBody.InApiWords(ex.Message), statusCode: StatusCodes.Status409Conflict);
        }
        var created = await batches.WaitUntilExpandedAsync(id, s_expansionWait, cancellationToken);
        if (created is { Status: "failed" })
        {
            // The template or its query could not be used: nothing is kept, as for any other bad input.
            await batches.DeleteFailedAsync(id, cancellationToken);
            return TaskApiBody.Invalid("Invalid batch", created.Error ?? "The batch could not be created.");
        }
        return Results.Json(created, TaskApi.Json, statusCode: created is { Status: "pending" } ? StatusCodes.Status202Accepted : StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(IBatchClient batches, CancellationToken cancellationToken, string? status = null, int limit = 50, long? before = null)
    {
        string[] statuses = ["pending", "running", "finished", "cancelled", "failed"];
        if (status is not null && !statuses.Contains(status))
        {
            return TaskApiBody.Invalid("Invalid query", $"\"status\" must be one of {string.Join(", ", statuses)}; got \"{status}\".");
        }
        if (limit is < 1 or > 500)
        {
            return TaskApiBody.Invalid("Invalid query", $"\"limit\" must be an integer from 1 to 500; got {limit}.");
        }
        var items = await batches.ListAsync(status, limit, before, cancellationToken);
        var next = items.Count == limit
            ? $"/api/batches?limit={limit}&before={items[^1].Id}" + (status is null ? "" : "&status=" + status)
            : null;
        return Results.Json(new BatchPage(items, next), TaskApi.Json);
    }

    private static async Task<IResult> GetAsync(long id, IBatchClient batches, CancellationToken cancellationToken) =>
        await batches.GetAsync(id, cancellationToken) is { } batch ? Results.Json(batch, TaskApi.Json) : NotFound(id);

    private static async Task<IResult> CancelAsync(long id, IBatchClient batches, CancellationToken cancellationToken) =>
        await batches.CancelAsync(id, cancellationToken) switch
        {
            BatchCancelOutcome.Cancelled => Results.Json(new CancelledBatch(id, "cancelled", "cancelled"), TaskApi.Json),
            BatchCancelOutcome.NotFound => NotFound(id),
            _ => Results.Problem(title: "Batch already ended",
                detail: $"Batch {id} is {(await batches.GetAsync(id, cancellationToken))?.Status}; only a pending or running batch can be cancelled.",
                statusCode: StatusCodes.Status409Conflict),
        };

    private static async Task<IResult> ResultsAsync(long id, HttpRequest request, IBatchClient batches, CancellationToken cancellationToken)
    {
        var wantsCsv = request.Headers.Accept.Any(a => a?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true);
        return wantsCsv ? await ResultsCsvAsync(id, batches, cancellationToken) : await batches.ResultsAsync(id, cancellationToken) is { } results
            ? Results.Json(results, TaskApi.Json)
            : NotFound(id);
    }

    private static async Task<IResult> ResultsCsvAsync(long id, IBatchClient batches, CancellationToken cancellationToken) =>
        await batches.ResultsAsync(id, cancellationToken) is { } results
            ? Results.File(BatchCsv.Write(results), BatchCsv.ContentType, $"batch-{id}-results.csv")
            : NotFound(id);

    private static async Task<IResult> ListSchedulesAsync(IBatchClient batches, CancellationToken cancellationToken) =>
        Results.Json(await batches.ListSchedulesAsync(cancellationToken), TaskApi.Json);

    private static async Task<IResult> GetScheduleAsync(string name, IBatchClient batches, CancellationToken cancellationToken) =>
        await batches.GetScheduleAsync(name, cancellationToken) is { } schedule ? Results.Json(schedule, TaskApi.Json) : ScheduleNotFound(name);

    private static async Task<IResult> CreateScheduleAsync(HttpRequest request, IBatchClient batches, CancellationToken cancellationToken)
    {
        var body = await TaskApiBody.ReadAsync<CreateScheduleRequest>(request, optional: false, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var create = body.Value!;
        var wanted = create.Body().ToRequest();
        if (await batches.GetScheduleAsync(create.Name ?? "", cancellationToken) is { } existing)
        {
            return SameContent(existing, wanted)
                ? Results.Json(existing, TaskApi.Json)
                : Results.Problem(title: "Schedule exists",
                    detail: $"A schedule named \"{create.Name}\" exists with other content; PUT /api/schedules/{create.Name} replaces it.",
                    statusCode: StatusCodes.Status409Conflict);
        }
        return await UpsertAsync(create.Name ?? "", wanted, batches, cancellationToken);
    }

    private static async Task<IResult> PutScheduleAsync(string name, HttpRequest request, IBatchClient batches, CancellationToken cancellationToken)
    {
        var body = await TaskApiBody.ReadAsync<ScheduleBody>(request, optional: false, cancellationToken);
        return body.Problem ?? await UpsertAsync(name, body.Value!.ToRequest(), batches, cancellationToken);
    }

    private static async Task<IResult> UpsertAsync(string name, ScheduleRequest schedule, IBatchClient batches, CancellationToken cancellationToken)
    {
        string outcome;
        try
        {
            outcome = await batches.UpsertScheduleAsync(name, schedule, cancellationToken);
        }
        catch (TaskValidationException ex)
        {
            return TaskApiBody.Invalid("Invalid schedule", ex.Message);
        }
        var stored = await batches.GetScheduleAsync(name, cancellationToken);
        return Results.Json(stored, TaskApi.Json, statusCode: outcome == "created" ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> DeleteScheduleAsync(string name, IBatchClient batches, CancellationToken cancellationToken) =>
        await batches.DeleteScheduleAsync(name, cancellationToken) ? Results.NoContent() : ScheduleNotFound(name);

    private static async Task<IResult> TriggerScheduleAsync(string name, IBatchClient batches, CancellationToken cancellationToken)
    {
        try
        {
            return await batches.TriggerScheduleAsync(name, cancellationToken) is { } batchId
                ? Results.Json(new TriggeredSchedule(batchId, $"/api/batches/{batchId}"), TaskApi.Json, statusCode: StatusCodes.Status201Created)
                : ScheduleNotFound(name);
        }
        catch (TaskValidationException ex)
        {
            return TaskApiBody.Invalid("Invalid schedule", ex.Message);
        }
    }

    private static bool SameContent(ScheduleDetails existing, ScheduleRequest wanted) =>
        existing.Cron == wanted.Cron && existing.TimeZone == wanted.TimeZone
        && (existing.Prompts ?? []).SequenceEqual(wanted.Prompts ?? []) && (existing.Prompts is null) == (wanted.Prompts is null)
        && existing.Template == wanted.Template && existing.SourceSql == wanted.SourceSql && existing.Instructions == wanted.Instructions
        && existing.Model == wanted.Model && existing.Priority == wanted.Priority && existing.MaxSteps == wanted.MaxSteps
        && existing.DeadlineAfter == wanted.DeadlineAfter && existing.FollowUp == wanted.FollowUp && existing.Enabled == wanted.Enabled
        && existing.Agent == wanted.Agent;

    private static IResult NotFound(long id) =>
        Results.Problem(title: "Batch not found", detail: $"There is no batch {id}.", statusCode: StatusCodes.Status404NotFound);

    private static IResult ScheduleNotFound(string name) =>
        Results.Problem(title: "Schedule not found", detail: $"There is no schedule named \"{name}\".", statusCode: StatusCodes.Status404NotFound);
}
