using Microsoft.Extensions.DependencyInjection;
using Dapper;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>Reads and writes <c>agent.tasks</c> and <c>agent.steps</c> for the worker.</summary>
public sealed class TaskStore([FromKeyedServices(TaskStore.AppDataSourceKey)] NpgsqlDataSource dataSource)
{
    public const string AppDataSourceKey = "app";

    private const string ClaimSql = """
        update agent.tasks t
           set status = 'running', attempt = t.attempt + 1, started_at = coalesce(t.started_at, now()),
               lease_owner = @owner, lease_expires_at = now() + @lease
         where t.id = @id
           and (t.status = 'queued' or (t.status = 'running' and (t.lease_expires_at < now() or t.lease_owner is null)))
        returning t.id, t.prompt, t.instructions, t.model, t.max_steps as MaxSteps, t.deadline, t.attempt,
                  (select coalesce(max(s.seq), 0) from agent.steps s where s.task_id = t.id) as LastSeq,
                  t.cancel_requested_at is not null as CancelRequested
        """;

    private const string InsertStepSql = """
        insert into agent.steps (task_id, attempt, seq, kind, started_at, finished_at, duration_ms, ttft_ms, transport,
            socket_id, socket_reused, chained, response_id, input_tokens, cached_tokens, output_tokens, reasoning_tokens,
            attempts, recovery, request_bytes, model_ms, tool_name, call_id, arguments, row_count, truncated, error, items)
        values (@TaskId, @Attempt, @Seq, @Kind, @StartedAt, @FinishedAt, @DurationMs, @TtftMs, @Transport,
            @SocketId, @SocketReused, @Chained, @ResponseId, @InputTokens, @CachedTokens, @OutputTokens, @ReasoningTokens,
            @Attempts, @Recovery, @RequestBytes, @ModelMs, @ToolName, @CallId, @Arguments, @RowCount, @Truncated, @Error, @Items::jsonb)
        """;

    // Usage is summed over every model step of every attempt: a resumed run's earlier turns count once.
    private const string FinishSql = """
        with slot as (delete from agent.model_slots s where s.task_id = @id
                        and exists (select 1 from agent.tasks o where o.id = @id and o.lease_owner = @owner))
        update agent.tasks t
           set status = @Status, finished_at = now(), result_text = @ResultText, error_code = @ErrorCode,
               error_message = @ErrorMessage, lease_owner = null, lease_expires_at = null,
               input_tokens = u.input, cached_tokens = u.cached, output_tokens = u.output, reasoning_tokens = u.reasoning
          from (select coalesce(sum(s.input_tokens), 0) as input, coalesce(sum(s.cached_tokens), 0) as cached,
                       coalesce(sum(s.output_tokens), 0) as output, coalesce(sum(s.reasoning_tokens), 0) as reasoning
                  from agent.steps s where s.task_id = @id and s.kind = 'model') u
         where t.id = @id and t.lease_owner = @owner
        """;

    /// <summary>Claims a queued task (or one whose lease expired); null when another run holds it or it is finished.</summary>
    public async Task<AgentTask?> ClaimAsync(long id, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<AgentTask>(new CommandDefinition(
            ClaimSql, new { id, owner, lease }, cancellationToken: cancellationToken));
    }

    /// <summary>Extends the lease. Null when the lease was lost (another run took the task over); else whether a cancel was asked.</summary>
    public async Task<bool?> HeartbeatAsync(long id, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition("""
            with slot as (update agent.model_slots set expires_at = now() + @lease where task_id = @id)
            update agent.tasks set lease_expires_at = now() + @lease
             where id = @id and lease_owner = @owner and status = 'running'
            returning cancel_requested_at is not null
            """, new { id, owner, lease }, cancellationToken: cancellationToken));
    }

    /// <summary>The stored steps of a task in order: the checkpoint a retried or taken-over run resumes from.</summary>
    public async Task<IReadOnlyList<CheckpointStep>> LoadCheckpointAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<CheckpointStep>(new CommandDefinition(
            "select seq, kind, items::text as Items from agent.steps where task_id = @id order by seq",
            new { id }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Hands an interrupted run back to the queue (shutdown): its Hangfire job is requeued by Hangfire.</summary>
    /// <remarks>With <paramref name="undoAttempt"/>, the run did no work (it waited for a model slot): its attempt does not count.</remarks>
    public async Task ReleaseAsync(long id, string owner, CancellationToken cancellationToken, bool undoAttempt = false)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            with slot as (delete from agent.model_slots s where s.task_id = @id
                            and exists (select 1 from agent.tasks t where t.id = @id and t.lease_owner = @owner))
            update agent.tasks
               set status = 'queued', lease_owner = null, lease_expires_at = null,
                   attempt = attempt - case when @undoAttempt then 1 else 0 end
             where id = @id and lease_owner = @owner
            """,
            new { id, owner, undoAttempt }, cancellationToken: cancellationToken));
    }

    /// <summary>Takes a slot of the model's shared cap for this run; false when the cap is reached.</summary>
    public async Task<bool> AcquireModelSlotAsync(long id, string model, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select agent.acquire_model_slot(@model, @id, @lease)", new { model, id, lease }, cancellationToken: cancellationToken));
    }

    public async Task InsertStepAsync(StepRecord step, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(InsertStepSql, step, cancellationToken: cancellationToken));
    }

    /// <summary>Stores the outcome; false when this run no longer owns the task.</summary>
    public async Task<bool> FinishAsync(long id, string owner, TaskOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(FinishSql, new
        {
            id,
            owner,
            outcome.Status,
            outcome.ResultText,
            outcome.ErrorCode,
            outcome.ErrorMessage,
        }, cancellationToken: cancellationToken)) == 1;
    }
}
