using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <inheritdoc />
internal sealed class TaskClient([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource, DefaultModel defaultModel) : ITaskClient
{
    private const string EnqueueSql = """
        select agent.enqueue(prompt => @Prompt, instructions => @Instructions, model => @Model, priority => @Priority,
            max_steps => @MaxSteps, idempotency_key => @IdempotencyKey, run_at => @RunAt, deadline => @Deadline,
            tool_config => @ToolConfig::jsonb, batch_id => @BatchId, agent => @Agent, tools => @Tools)
        """;

    /// <summary>The task, then its steps (<c>@id</c>, <c>@defaultModel</c>): shared with the dashboard's task page.</summary>
    internal const string TaskSql = """
        select id, status, prompt, instructions, coalesce(effective_model, model, @defaultModel) as Model,
               model as RequestedModel, batch_id as BatchId, priority, max_steps as MaxSteps, attempt, retries,
               idempotency_key as IdempotencyKey, hangfire_job_id as HangfireJobId, created_at as CreatedAt,
               run_at as RunAt, deadline, started_at as StartedAt, finished_at as FinishedAt, result_text as ResultText,
               error_code as ErrorCode, error_message as ErrorMessage, cancel_requested_at as CancelRequestedAt,
               cancel_reason as CancelReason, input_tokens as InputTokens, cached_tokens as CachedTokens,
               output_tokens as OutputTokens, reasoning_tokens as ReasoningTokens, agent,
               coalesce(tools, tool_patterns) as Tools, tool_patterns as ToolPatterns
          from agent.tasks where id = @id;
        select seq, attempt, kind, started_at as StartedAt, duration_ms as DurationMs, ttft_ms as TtftMs,
               model_ms as ModelMs, transport, socket_id as SocketId, socket_reused as SocketReused, chained, attempts,
               recovery, request_bytes as RequestBytes, response_id as ResponseId, input_tokens as InputTokens,
               cached_tokens as CachedTokens, output_tokens as OutputTokens, reasoning_tokens as ReasoningTokens,
               tool_name as ToolName, arguments, row_count as RowCount, truncated, error
          from agent.steps where task_id = @id order by seq;
        """;

    public async Task<long> EnqueueAsync(EnqueueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RefuseUnstorableText(request);
        using var activity = TaskTelemetry.StartEnqueue(request.Model);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(TaskTelemetry.Traced(EnqueueSql, activity), new
            {
                request.Prompt,
                request.Instructions,
                request.Model,
                request.Priority,
                request.MaxSteps,
                request.IdempotencyKey,
                RunAt = request.RunAt?.ToUniversalTime(),
                Deadline = request.Deadline?.ToUniversalTime(),
                ToolConfig = request.ToolConfig?.ToJsonString(),
                request.BatchId,
                request.Agent,
                Tools = request.Tools?.ToArray(),
                TraceParent = activity?.Id,
            }, cancellationToken: cancellationToken));
            activity?.SetTag("agent.task.id", id);
            return id;
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidParameterValue or PostgresErrorCodes.CheckViolation)
        {
            TaskTelemetry.Failed(activity, "invalid_request", ex.MessageText);
            throw new TaskValidationException(ex.MessageText, ex, FieldNamed(ex.MessageText));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation && ex.MessageText.Contains("idempotency_key", StringComparison.Ordinal))
        {
            throw new IdempotencyConflictException(ex.MessageText, ex);
        }
    }

    /// <summary>
    /// Text PostgreSQL cannot store (a NUL, a surrogate half) is refused here, naming the field, before it reaches the
    /// server (which would fail the whole statement with an encoding error that names nothing).
    /// </summary>
    private static void RefuseUnstorableText(EnqueueRequest request)
    {
        RequireStorable("prompt", request.Prompt);
        RequireStorable("instructions", request.Instructions);
        RequireStorable("model", request.Model);
        RequireStorable("idempotency_key", request.IdempotencyKey);
        RequireStorable("agent", request.Agent);
        foreach (var tool in request.Tools ?? [])
        {
            RequireStorable("tools", tool);
        }
        if (request.ToolConfig?.ToJsonString() is { } config && StorableText.CleanJson(config) != config)
        {
            Refuse("tool_config");
        }
    }

    /// <summary>Refuses text PostgreSQL cannot store, naming the field (<see cref="TaskValidationException.Field"/>).</summary>
    internal static void RequireStorable(string field, string? text)
    {
        if (text is not null && !StorableText.IsStorable(text))
        {
            Refuse(field);
        }
    }

    private static void Refuse(string field) => throw new TaskValidationException(
        $"{field} holds a NUL character or a broken surrogate pair, which PostgreSQL cannot store", field: field);

    /// <summary>The field an <c>agent.enqueue</c> refusal names ("agent.enqueue: max_steps must be ...").</summary>
    private static string? FieldNamed(string message)
    {
        foreach (var field in (string[])["prompt", "instructions", "model", "priority", "max_steps", "idempotency_key", "run_at", "deadline", "tool_config", "batch_id", "agent", "tools"])
        {
            if (message.StartsWith($"agent.enqueue: {field} ", StringComparison.Ordinal)
                || (field == "agent" && message.StartsWith("agent.enqueue: unknown agent ", StringComparison.Ordinal)))
            {
                return field;
            }
        }
        return null;
    }

    public async Task<IReadOnlyList<TaskSummary>> ListAsync(
        string? status, long? batchId, int limit, long? before, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<TaskSummary>(new CommandDefinition("""
            select id, status, prompt, batch_id as BatchId, model, agent, priority, attempt, created_at as CreatedAt,
                   started_at as StartedAt, finished_at as FinishedAt, result_text as ResultText, error_code as ErrorCode,
                   input_tokens as InputTokens, output_tokens as OutputTokens
              from agent.tasks
             where (@status::text is null or status = @status)
               and (@batchId::bigint is null or batch_id = @batchId)
               and (@before::bigint is null or id < @before)
             order by id desc
             limit @limit
            """, new { status, batchId, limit, before }, cancellationToken: cancellationToken))).AsList();
    }

    public async Task<CancelOutcome> CancelAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var outcome = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "select agent.cancel(@id)", new { id }, cancellationToken: cancellationToken));
        return outcome switch
        {
            "cancelled" => CancelOutcome.Cancelled,
            "stop_requested" => CancelOutcome.StopRequested,
            "already_finished" => CancelOutcome.AlreadyFinished,
            "not_found" => CancelOutcome.NotFound,
            _ => throw new InvalidOperationException($"agent.cancel returned '{outcome}'"),
        };
    }

    public Task<RetryOutcome> RetryAsync(long id, int? maxSteps, CancellationToken cancellationToken) =>
        RetryAsync(id, maxSteps, inDoubt: null, cancellationToken);

    public async Task<RetryOutcome> RetryAsync(long id, int? maxSteps, InDoubtDecision? inDoubt, CancellationToken cancellationToken)
    {
        var decision = inDoubt switch
        {
            null => null,
            InDoubtDecision.Rerun => "rerun",
            InDoubtDecision.Skip => "skip",
            _ => throw new ArgumentOutOfRangeException(nameof(inDoubt), inDoubt, "in_doubt must be Rerun or Skip."),
        };
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        string? outcome;
        try
        {
            outcome = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "select agent.retry(@id, @maxSteps, @decision)", new { id, maxSteps, decision }, cancellationToken: cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidParameterValue)
        {
            throw new TaskValidationException(ex.MessageText, ex, "max_steps");
        }
        return outcome switch
        {
            "queued" => RetryOutcome.Queued,
            "not_found" => RetryOutcome.NotFound,
            "not_finished" => RetryOutcome.NotFinished,
            "succeeded" => RetryOutcome.Succeeded,
            "deadline_passed" => RetryOutcome.DeadlinePassed,
            "in_doubt" => RetryOutcome.InDoubt,
            _ => throw new InvalidOperationException($"agent.retry returned '{outcome}'"),
        };
    }

    public async Task<TaskDetails?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(TaskSql, new { id, defaultModel = defaultModel.Name }, cancellationToken: cancellationToken));
        var task = await results.ReadSingleOrDefaultAsync<TaskDetails>();
        if (task is null)
        {
            return null;
        }
        var steps = (await results.ReadAsync<StepSummary>()).AsList();
        return task with { Steps = steps };
    }
}
