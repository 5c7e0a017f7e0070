using System.Text.RegularExpressions;
using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Batches;

/// <inheritdoc />
internal sealed partial class BatchClient([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource, TimeProvider time) : IBatchClient
{
    internal const string BatchColumns = """
        select b.id, b.name, b.status, b.total, coalesce(c.queued, 0)::int as Queued, coalesce(c.running, 0)::int as Running,
               b.succeeded, b.failed, b.cancelled,
               case when b.total = 0 then (case when b.status = 'pending' or b.status = 'running' then 0 else 1 end)
                    else (b.succeeded + b.failed + b.cancelled)::float8 / b.total end as Progress,
               b.created_at as CreatedAt, c.started_at as StartedAt, b.finished_at as FinishedAt,
               b.input_tokens as InputTokens, b.cached_tokens as CachedTokens, b.output_tokens as OutputTokens,
               b.reasoning_tokens as ReasoningTokens, b.template, b.source_sql as SourceSql, b.follow_up as FollowUp,
               b.follow_up_task_id as FollowUpTaskId, b.schedule_name as ScheduleName, b.agent, b.error
          from agent.batches b
          left join lateral (
              select count(*) filter (where t.status = 'queued') as queued, count(*) filter (where t.status = 'running') as running,
                     min(t.started_at) as started_at
                from agent.tasks t where t.batch_id = b.id) c on true
        """;

    /// <summary>A batch's results (<c>@id</c>) in task order: shared with the dashboard's CSV download.</summary>
    internal const string ResultsSql = """
        select batch, task, prompt, status, result, error, input_tokens as InputTokens, cached_tokens as CachedTokens,
               output_tokens as OutputTokens, reasoning_tokens as ReasoningTokens, duration_ms::float8 as DurationMs
          from agent.batch_results where batch = @id order by task;
        """;

    private const string ScheduleColumns = """
        select s.name, s.cron, s.time_zone as TimeZone, s.prompts, s.template, s.source_sql as SourceSql, s.instructions,
               s.model, s.priority, s.max_steps as MaxSteps, s.deadline_after as DeadlineAfter, s.follow_up as FollowUp,
               s.enabled, s.agent, s.defined_in as DefinedIn, s.created_at as CreatedAt, s.updated_at as UpdatedAt,
               l.id as LastBatchId, l.created_at as LastFiredAt
          from agent.schedules s
          left join lateral (select id, created_at from agent.batches b where b.schedule_name = s.name order by id desc limit 1) l on true
        """;

    public async Task<long> CreateAsync(BatchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireStorable(request.Name, request.Prompts, request.Template, request.SourceSql, request.Instructions, request.Model, request.FollowUp);
        TaskClient.RequireStorable("agent", request.Agent);
        // Traced, the tasks of a prompt list carry the trace.
        using var activity = TaskTelemetry.StartEnqueue(request.Model);
        activity?.SetTag("agent.batch.name", request.Name);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var id = await RefusalsNamedAsync(() => connection.ExecuteScalarAsync<long>(new CommandDefinition(TaskTelemetry.Traced("""
            select agent.enqueue_batch(name => @Name, prompts => @prompts, template => @Template, source_sql => @SourceSql,
                instructions => @Instructions, model => @Model, priority => @Priority, max_steps => @MaxSteps,
                deadline => @deadline, follow_up => @FollowUp, idempotency_key => @IdempotencyKey, agent => @Agent)
            """, activity), new
        {
            request.Name, prompts = request.Prompts?.ToArray(), request.Template, request.SourceSql, request.Instructions, request.Model,
            request.Priority, request.MaxSteps, deadline = request.Deadline?.ToUniversalTime(), request.FollowUp, request.IdempotencyKey,
            request.Agent, TraceParent = activity?.Id,
        }, cancellationToken: cancellationToken)));
        activity?.SetTag("agent.batch.id", id);
        return id;
    }

    public async Task<BatchDetails?> WaitUntilExpandedAsync(long id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + timeout;
        while (true)
        {
            var batch = await GetAsync(id, cancellationToken);
            if (batch is null || batch.Status != "pending" || time.GetUtcNow() >= until)
            {
                return batch;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
    }

    public async Task<BatchDetails?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<BatchDetails>(new CommandDefinition(
            BatchColumns + " where b.id = @id", new { id }, cancellationToken: cancellationToken));
    }

    public async Task<bool> DeleteFailedAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from agent.batches b where b.id = @id and b.status = 'failed' and not exists (select 1 from agent.tasks t where t.batch_id = b.id)",
            new { id }, cancellationToken: cancellationToken)) == 1;
    }

    public async Task<IReadOnlyList<BatchDetails>> ListAsync(string? status, int limit, long? before, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<BatchDetails>(new CommandDefinition(
            BatchColumns + """
                 where (@status::text is null or b.status = @status) and (@before::bigint is null or b.id < @before)
                 order by b.id desc limit @limit
                """, new { status, limit, before }, cancellationToken: cancellationToken))).AsList();
    }

    public async Task<BatchCancelOutcome> CancelAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var outcome = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "select agent.cancel_batch(@id)", new { id }, cancellationToken: cancellationToken));
        return outcome switch
        {
            "cancelled" => BatchCancelOutcome.Cancelled,
            "already_finished" => BatchCancelOutcome.AlreadyFinished,
            "not_found" => BatchCancelOutcome.NotFound,
            _ => throw new InvalidOperationException($"agent.cancel_batch returned '{outcome}'"),
        };
    }

    public async Task<IReadOnlyList<BatchResult>?> ResultsAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition("""
            select exists (select 1 from agent.batches where id = @id);
            """ + ResultsSql, new { id }, cancellationToken: cancellationToken));
        var exists = await results.ReadSingleAsync<bool>();
        var rows = (await results.ReadAsync<BatchResult>()).AsList();
        return exists ? rows : null;
    }

    public async Task<string> UpsertScheduleAsync(string name, ScheduleRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        TaskClient.RequireStorable("name", name);
        TaskClient.RequireStorable("cron", request.Cron);
        TaskClient.RequireStorable("time_zone", request.TimeZone);
        RequireStorable(name, request.Prompts, request.Template, request.SourceSql, request.Instructions, request.Model, request.FollowUp);
        TaskClient.RequireStorable("agent", request.Agent);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await RefusalsNamedAsync(async () => (await connection.ExecuteScalarAsync<string>(new CommandDefinition("""
            select agent.upsert_schedule(name => @name, cron => @Cron, time_zone => @TimeZone, prompts => @prompts,
                template => @Template, source_sql => @SourceSql, instructions => @Instructions, model => @Model,
                priority => @Priority, max_steps => @MaxSteps, deadline_after => @DeadlineAfter, follow_up => @FollowUp,
                enabled => @Enabled, agent => @Agent)
            """, new
        {
            name, request.Cron, request.TimeZone, prompts = request.Prompts?.ToArray(), request.Template, request.SourceSql,
            request.Instructions, request.Model, request.Priority, request.MaxSteps, request.DeadlineAfter, request.FollowUp, request.Enabled, request.Agent,
        }, cancellationToken: cancellationToken)))!);
    }

    public async Task<ScheduleDetails?> GetScheduleAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<ScheduleDetails>(new CommandDefinition(
            ScheduleColumns + " where s.name = @name", new { name }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<ScheduleDetails>> ListSchedulesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<ScheduleDetails>(new CommandDefinition(
            ScheduleColumns + " order by s.name", cancellationToken: cancellationToken))).AsList();
    }

    public async Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select agent.delete_schedule(@name)", new { name }, cancellationToken: cancellationToken));
    }

    public async Task<long?> TriggerScheduleAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from agent.schedules where name = @name)", new { name }, cancellationToken: cancellationToken));
        if (!exists)
        {
            return null;
        }
        return await RefusalsNamedAsync(() => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select agent.trigger_schedule(@name)", new { name }, cancellationToken: cancellationToken)));
    }

    private static void RequireStorable(string name, IReadOnlyList<string>? prompts, string? template, string? sourceSql,
        string? instructions, string? model, string? followUp)
    {
        TaskClient.RequireStorable("name", name);
        foreach (var prompt in prompts ?? [])
        {
            TaskClient.RequireStorable("prompts", prompt);
        }
        TaskClient.RequireStorable("template", template);
        TaskClient.RequireStorable("source_sql", sourceSql);
        TaskClient.RequireStorable("instructions", instructions);
        TaskClient.RequireStorable("model", model);
        TaskClient.RequireStorable("follow_up", followUp);
    }

    /// <summary>The SQL API's refusals (SQLSTATE 22023) as <see cref="TaskValidationException"/>, with the field they name.</summary>
    private static async Task<T> RefusalsNamedAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation && ex.MessageText.Contains("idempotency_key", StringComparison.Ordinal))
        {
            throw new IdempotencyConflictException(ex.MessageText, ex);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidParameterValue)
        {
            var field = NamedField().Match(ex.MessageText) is { Success: true } match ? match.Groups[1].Value
                : ex.MessageText.Contains(": unknown agent ", StringComparison.Ordinal) ? "agent" : null;
            throw new TaskValidationException(ex.MessageText, ex, field == "prompt" ? "prompts" : field);
        }
    }

    [GeneratedRegex(@"^agent\.\w+: (name|prompts|prompt|template|source_sql|instructions|model|priority|max_steps|deadline|follow_up|cron|time_zone|deadline_after|idempotency_key)\b")]
    private static partial Regex NamedField();
}
