using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <inheritdoc />
internal sealed class TaskClient([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource) : ITaskClient
{
    private const string EnqueueSql = """
        select agent.enqueue(prompt => @Prompt, instructions => @Instructions, model => @Model, priority => @Priority,
            max_steps => @MaxSteps, idempotency_key => @IdempotencyKey, run_at => @RunAt, deadline => @Deadline,
            tool_config => @ToolConfig::jsonb)
        """;

    /// <summary>The task, then its steps: shared with the dashboard's task page.</summary>
    internal const string TaskSql = """
        select id, status, prompt, model, priority, max_steps as MaxSteps, attempt, idempotency_key as IdempotencyKey,
               hangfire_job_id as HangfireJobId, created_at as CreatedAt, started_at as StartedAt, finished_at as FinishedAt,
               result_text as ResultText, error_code as ErrorCode, error_message as ErrorMessage,
               input_tokens as InputTokens, cached_tokens as CachedTokens, output_tokens as OutputTokens,
               reasoning_tokens as ReasoningTokens
          from agent.tasks where id = @id;
        select seq, attempt, kind, started_at as StartedAt, duration_ms as DurationMs, ttft_ms as TtftMs, transport,
               socket_id as SocketId, socket_reused as SocketReused, chained, response_id as ResponseId,
               input_tokens as InputTokens, cached_tokens as CachedTokens, output_tokens as OutputTokens,
               tool_name as ToolName, arguments, row_count as RowCount, truncated, error
          from agent.steps where task_id = @id order by seq;
        """;

    public async Task<long> EnqueueAsync(EnqueueRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            return await connection.ExecuteScalarAsync<long>(new CommandDefinition(EnqueueSql, new
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
            }, cancellationToken: cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidParameterValue or PostgresErrorCodes.CheckViolation)
        {
            throw new TaskValidationException(ex.MessageText, ex);
        }
    }

    public async Task<IReadOnlyList<TaskSummary>> ListAsync(
        string? status, long? batchId, int limit, long? before, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<TaskSummary>(new CommandDefinition("""
            select id, status, prompt, batch_id as BatchId, model, priority, attempt, created_at as CreatedAt,
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

    public async Task<bool> CancelAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select agent.cancel(@id)", new { id }, cancellationToken: cancellationToken));
    }

    public async Task<TaskDetails?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(TaskSql, new { id }, cancellationToken: cancellationToken));
        var task = await results.ReadSingleOrDefaultAsync<TaskDetails>();
        if (task is null)
        {
            return null;
        }
        var steps = (await results.ReadAsync<StepSummary>()).AsList();
        return task with { Steps = steps };
    }
}
