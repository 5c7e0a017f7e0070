using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// The executor's reads and writes of <c>agent.tasks</c>, <c>agent.steps</c> and <c>agent.tool_calls</c>. Every write after
/// the claim is guarded by the run's claim (<c>lease_owner</c>): a run that lost its claim changes nothing.
/// </summary>
internal sealed partial class RunStore([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource) : IStepSink
{
    /// <summary>Claims up to <c>@free</c> tasks, then tells when the next queued task comes due (one round trip).</summary>
    private const string ClaimSql = """
        with expired as (
            select id from agent.tasks
             where status = 'running' and lease_expires_at < now()
             order by lease_expires_at
             limit @free
               for update skip locked),
        due as (
            select t.id from agent.tasks t
             where t.status = 'queued' and t.run_at <= now()
               -- a model at its shared cap is left alone (acquire_model_slot below is the exact check)
               and not exists (select 1 from agent.model_limits l
                                where l.model = coalesce(t.model, @defaultModel)
                                  and l.max_concurrent <= (select count(*) from agent.model_slots s
                                                            where s.model = l.model and s.expires_at >= now()))
             order by t.priority desc, t.id
             limit @free
               for update skip locked),
        picked as (select id, true as takeover from expired union all select id, false from due limit @free)
        update agent.tasks t
           set status = 'running', attempt = t.attempt + 1, started_at = coalesce(t.started_at, now()),
               effective_model = coalesce(t.model, @defaultModel),
               lease_owner = @owner || ':' || t.id || ':' || (t.attempt + 1), lease_expires_at = now() + @lease
          from picked p
         where t.id = p.id
        returning t.id, t.prompt, t.instructions, t.model, t.max_steps as MaxSteps, t.deadline, t.attempt,
                  (select coalesce(max(s.seq), 0) from agent.steps s where s.task_id = t.id) as LastSeq,
                  (t.cancel_requested_at is not null
                   or exists (select 1 from agent.batches b where b.id = t.batch_id and b.status = 'cancelled')) as CancelRequested,
                  t.lease_owner as Owner, t.retries, t.hangfire_job_id as HangfireJobId,
                  t.trace_parent as TraceParent, t.agent, t.tool_patterns as ToolPatterns,
                  -- how long a due task waited for a run (a take-over's wait is not a queue's)
                  case when not p.takeover then extract(epoch from now() - greatest(t.created_at, t.run_at))::float8 end as QueueWaitSeconds,
                  agent.acquire_model_slot(coalesce(t.model, @defaultModel), t.id, @lease) as SlotAcquired;
        -- clamped before subtracting: PostgreSQL before 17 cannot subtract a stored 'infinity' or '-infinity'
        select extract(epoch from least(greatest(min(run_at), now()), now() + interval '1 day') - now())::float8
          from agent.tasks where status = 'queued';
        """;

    private const string HeartbeatSql = """
        with mine as (select * from unnest(@ids::bigint[], @owners::text[]) as m(id, owner)),
        slots as (update agent.model_slots s set expires_at = now() + @lease from mine m where s.task_id = m.id),
        renewed as (
            update agent.tasks t set lease_expires_at = now() + @lease
              from mine m
             where t.id = m.id and t.lease_owner = m.owner and t.status = 'running'
            -- a run is cancelled by agent.cancel, or by its batch's cancel (which leaves running rows alone)
            returning t.id, (t.cancel_requested_at is not null
                             or exists (select 1 from agent.batches b where b.id = t.batch_id and b.status = 'cancelled')) as cancel)
        select m.id, r.id is not null as Held, coalesce(r.cancel, false) as CancelRequested
          from mine m left join renewed r on r.id = m.id
        """;

    // A run's writes of steps and journal entries hold while its claim does (@Owner; null: outside any claim, as the
    // bench's loop runner writes). The claim's row is locked FOR SHARE for the statement: a take-over's claim waits for
    // it, and so reads what it wrote; a write after a take-over changes nothing. Without it a run whose claim expired
    // while it was alive (a stalled process) could start a call the new run starts too: a refund done twice.
    private const string HeldCte = """
        held as (select t.id from agent.tasks t where t.id = @TaskId and t.lease_owner = @Owner for share)
        """;

    private const string Held = "(@Owner::text is null or exists (select 1 from held))";

    private const string InsertStepValuesSql = $"""
        insert into agent.steps (task_id, attempt, seq, kind, started_at, finished_at, duration_ms, ttft_ms, transport,
            socket_id, socket_reused, chained, response_id, input_tokens, cached_tokens, output_tokens, reasoning_tokens,
            attempts, recovery, request_bytes, model_ms, tool_name, call_id, arguments, row_count, truncated, error, items)
        select @TaskId, @Attempt, @Seq, @Kind, @StartedAt, @FinishedAt, @DurationMs, @TtftMs, @Transport,
            @SocketId, @SocketReused, @Chained, @ResponseId, @InputTokens, @CachedTokens, @OutputTokens, @ReasoningTokens,
            @Attempts, @Recovery, @RequestBytes, @ModelMs, @ToolName, @CallId, @Arguments, @RowCount, @Truncated, @Error, @Items::jsonb
         where {Held}
        """;

    private const string InsertStepSql = "with " + HeldCte + "\n" + InsertStepValuesSql;

    // A journaled call's step also finishes its journal entry, in the step's own statement: the output and "finished"
    // are stored together or not at all.
    private const string InsertStepWithSql = $"""
        with {HeldCte},
        journal as (
            update agent.tool_calls c set finished_at = now()
             where @Journaled and c.task_id = @TaskId and c.call_id = @CallId and {Held})
        """ + "\n" + InsertStepValuesSql;

    private const string StartCallSql = $"""
        with {HeldCte}
        insert into agent.tool_calls as c (task_id, call_id, tool_name, idempotency_key, idempotent, attempt)
        select @TaskId, @CallId, @ToolName, @IdempotencyKey, @Idempotent, @Attempt
         where {Held}
        on conflict (task_id, call_id) do update
           set runs = c.runs + 1, attempt = excluded.attempt, started_at = now(), finished_at = null, resolution = null
        """;

    private const string CheckpointSql = """
        select seq, kind, items::text as Items from agent.steps where task_id = @id order by seq;
        select call_id as CallId, tool_name as ToolName, idempotency_key as IdempotencyKey, idempotent, resolution
          from agent.tool_calls where task_id = @id and finished_at is null;
        """;

    // Usage is summed over every model step of every attempt: a resumed run's earlier turns count once. A cancelled
    // run's message says who cancelled it.
    private const string FinishSql = """
        with slot as (delete from agent.model_slots s where s.task_id = @id
                        and exists (select 1 from agent.tasks o where o.id = @id and o.lease_owner = @owner))
        update agent.tasks t
           set status = @Status, finished_at = now(), result_text = @ResultText, error_code = @ErrorCode,
               tools = coalesce(@Tools::text[], t.tools),
               error_message = case when @Status = 'cancelled'
                                    then 'cancelled while running (' || coalesce(t.cancel_reason,
                                         (select 'its batch was cancelled' from agent.batches b where b.id = t.batch_id and b.status = 'cancelled'),
                                         'agent.cancel') || '); the steps done are kept'
                                    else @ErrorMessage end,
               lease_owner = null, lease_expires_at = null,
               input_tokens = u.input, cached_tokens = u.cached, output_tokens = u.output, reasoning_tokens = u.reasoning
          from (select coalesce(sum(s.input_tokens), 0) as input, coalesce(sum(s.cached_tokens), 0) as cached,
                       coalesce(sum(s.output_tokens), 0) as output, coalesce(sum(s.reasoning_tokens), 0) as reasoning
                  from agent.steps s where s.task_id = @id and s.kind = 'model') u
         where t.id = @id and t.lease_owner = @owner
        returning t.cancel_reason as CancelReason, t.error_message as ErrorMessage
        """;

    // Back to the queue. A retry waits and uses one of the retry budget (the last error stays visible meanwhile); a
    // hand-back at shutdown is due at once and wakes the other processes.
    private const string RequeueSql = """
        with slot as (delete from agent.model_slots s where s.task_id = @id
                        and exists (select 1 from agent.tasks o where o.id = @id and o.lease_owner = @owner)),
        requeued as (
            update agent.tasks t
               set status = 'queued', lease_owner = null, lease_expires_at = null, run_at = now() + @delay,
                   retries = t.retries + case when @retry then 1 else 0 end,
                   error_code = case when @retry then @code else t.error_code end,
                   error_message = case when @retry then @message else t.error_message end
             where t.id = @id and t.lease_owner = @owner
            returning t.id)
        select count(*) > 0, case when @retry then null else pg_notify('agent_tasks', '') end from requeued
        """;

    // The model is at its cap: back to the queue without using an attempt, for a short wait.
    private const string SnoozeSql = """
        with mine as (select * from unnest(@ids::bigint[], @owners::text[]) as m(id, owner))
        update agent.tasks t
           set status = 'queued', attempt = t.attempt - 1, snoozes = t.snoozes + 1, run_at = now() + @wait,
               started_at = case when t.attempt = 1 then null else t.started_at end,
               lease_owner = null, lease_expires_at = null
          from mine m
         where t.id = m.id and t.lease_owner = m.owner
        """;

    /// <summary>The result of one claim: the runs to start, and when the next queued task is due (null: none queued).</summary>
    public sealed record Claim(IReadOnlyList<ClaimedTask> Tasks, TimeSpan? NextDue);

    public sealed record Beat(long Id, bool Held, bool CancelRequested);

    public sealed record Finished(string? CancelReason, string? ErrorMessage);

    public async Task<Claim> ClaimAsync(int free, string owner, TimeSpan lease, string defaultModel, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            ClaimSql, new { free, owner, lease, defaultModel }, cancellationToken: cancellationToken));
        var tasks = (await results.ReadAsync<ClaimedTask>()).AsList();
        var seconds = await results.ReadSingleAsync<double?>();
        // Any stored run_at, even 'infinity' written before it was refused, yields a usable wait.
        TimeSpan? next = seconds is { } s && double.IsFinite(s) ? TimeSpan.FromSeconds(Math.Clamp(s, 0, 86_400)) : null;
        return new Claim(tasks, next);
    }

    /// <summary>Renews the claims of all the runs of this process in one statement.</summary>
    public async Task<IReadOnlyList<Beat>> HeartbeatAsync(long[] ids, string[] owners, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Beat>(new CommandDefinition(
            HeartbeatSql, new { ids, owners, lease }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// The stored steps of a task in order, and its journaled calls that never finished: the checkpoint a retried or
    /// taken-over run resumes from (one round trip).
    /// </summary>
    public async Task<Checkpoint> LoadCheckpointAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            CheckpointSql, new { id }, cancellationToken: cancellationToken));
        var steps = (await results.ReadAsync<CheckpointStep>()).AsList();
        var open = (await results.ReadAsync<OpenCall>()).AsList();
        return new Checkpoint(steps, open);
    }

    /// <summary>Outside any claim (the bench's loop runner, tests): <see cref="StartCallAsync(CallStart, string?, CancellationToken)"/> unguarded.</summary>
    public Task StartCallAsync(CallStart start, CancellationToken cancellationToken) => StartCallAsync(start, null, cancellationToken);

    /// <summary>
    /// Journals a call's start, if the run still holds its claim (<paramref name="owner"/>; null: unguarded); else
    /// throws <see cref="ClaimLostException"/> and the call must not run.
    /// </summary>
    public async Task StartCallAsync(CallStart start, string? owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        var storable = start with { CallId = StorableText.Clean(start.CallId) ?? "", IdempotencyKey = StorableText.Clean(start.IdempotencyKey) ?? "" };
        var parameters = new DynamicParameters(storable);
        parameters.Add("Owner", owner);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await connection.ExecuteAsync(new CommandDefinition(StartCallSql, parameters, cancellationToken: cancellationToken)) == 0)
        {
            throw new ClaimLostException(start.TaskId, $"call {start.CallId} of {start.ToolName} not started");
        }
    }

    /// <summary>Outside any claim (the bench's loop runner, tests): <see cref="SaveAsync(StepRecord, string?, CancellationToken)"/> unguarded.</summary>
    public Task SaveAsync(StepRecord record, CancellationToken cancellationToken) => SaveAsync(record, null, cancellationToken);

    /// <summary>Stores a step, if the run still holds its claim (<paramref name="owner"/>; null: unguarded); else throws <see cref="ClaimLostException"/>.</summary>
    public async Task SaveAsync(StepRecord record, string? owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        // Whatever a model sent (a NUL, an unpaired surrogate) must not fail the step's insert: every text a server
        // chose (a tool name, a call or response id, an error code quoted in the recovery) is cleaned.
        var storable = record with
        {
            ResponseId = StorableText.Clean(record.ResponseId),
            Recovery = StorableText.Clean(record.Recovery),
            ToolName = StorableText.Clean(record.ToolName),
            CallId = StorableText.Clean(record.CallId),
            Arguments = StorableText.Clean(record.Arguments),
            Error = StorableText.Clean(record.Error),
            Items = StorableText.CleanJson(record.Items),
        };
        var parameters = new DynamicParameters(storable);
        parameters.Add("Owner", owner);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var sql = record.Journaled ? InsertStepWithSql : InsertStepSql;
        if (await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)) == 0)
        {
            throw new ClaimLostException(record.TaskId, $"step {record.Seq} not stored");
        }
    }

    /// <summary>Stores the outcome; null when this run no longer holds the task.</summary>
    public async Task<Finished?> FinishAsync(long id, string owner, TaskOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Finished>(new CommandDefinition(FinishSql, new
        {
            id,
            owner,
            outcome.Status,
            outcome.ErrorCode,
            outcome.Tools,
            ErrorMessage = StorableText.Error(outcome.ErrorMessage),
            ResultText = StorableText.Clean(outcome.ResultText),
        }, cancellationToken: cancellationToken));
    }

    /// <summary>A transient failure: back to the queue after <paramref name="delay"/>, one retry used.</summary>
    public Task<bool> RetryAsync(long id, string owner, TimeSpan delay, string code, string message, CancellationToken cancellationToken) =>
        RequeueAsync(id, owner, delay, retry: true, code, message, cancellationToken);

    /// <summary>Shutdown: back to the queue, due now, steps kept; other processes are woken.</summary>
    public Task<bool> HandBackAsync(long id, string owner, CancellationToken cancellationToken) =>
        RequeueAsync(id, owner, TimeSpan.Zero, retry: false, null, null, cancellationToken);

    private async Task<bool> RequeueAsync(
        long id, string owner, TimeSpan delay, bool retry, string? code, string? message, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            RequeueSql, new { id, owner, delay, retry, code, message = StorableText.Error(message) }, cancellationToken: cancellationToken));
    }

    public async Task SnoozeAsync(long[] ids, string[] owners, TimeSpan wait, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(SnoozeSql, new { ids, owners, wait }, cancellationToken: cancellationToken));
    }

    /// <summary>Records the mirror jobs created for tasks (never overwriting one already recorded).</summary>
    public async Task RecordJobsAsync(long[] ids, string[] jobIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update agent.tasks t set hangfire_job_id = j.job_id
              from unnest(@ids::bigint[], @jobIds::text[]) as j(id, job_id)
             where t.id = j.id and t.hangfire_job_id is null
            """, new { ids, jobIds }, cancellationToken: cancellationToken));
    }
}
