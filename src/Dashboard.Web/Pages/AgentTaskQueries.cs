using AgentWorker.Jobs.Tasks;
using Dapper;
using Npgsql;

namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// The reads behind the dashboard's agent pages that the library's clients do not offer (a task's and a batch's come
/// from <c>ITaskClient</c> and <c>IBatchClient</c>, in <see cref="AgentPage.LoadAsync"/>). Synchronous on purpose:
/// Hangfire renders pages synchronously, as its own pages read their storage.
/// </summary>
internal sealed class AgentTaskQueries([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource, AgentDashboardSettings settings)
{
    public const int PageSize = 50;

    private const string ListSql = """
        select t.id, t.status, t.prompt, t.batch_id as BatchId, coalesce(t.effective_model, t.model, @defaultModel) as Model,
               t.hangfire_job_id as HangfireJobId, t.created_at as CreatedAt,
               extract(epoch from coalesce(t.finished_at, now()) - t.created_at) * 1000 as TotalMs,
               (select count(*) from agent.steps s where s.task_id = t.id and s.kind = 'model')::int as Turns,
               (select count(*) from agent.steps s where s.task_id = t.id and s.kind = 'tool')::int as ToolCalls,
               t.input_tokens as InputTokens, t.cached_tokens as CachedTokens, t.output_tokens as OutputTokens,
               coalesce(t.result_text, t.error_code || ': ' || t.error_message) as Outcome
          from agent.tasks t
         where (@status::text is null or t.status = @status)
           and (@batch::bigint is null or t.batch_id = @batch)
           and (@model::text is null or coalesce(t.effective_model, t.model, @defaultModel) = @model)
           and (@before::bigint is null or t.id < @before)
         order by t.id desc
         limit @limit
        """;

    /// <summary>A page of tasks, newest first, and whether older ones follow.</summary>
    public (IReadOnlyList<TaskRow> Rows, bool More) Tasks(TaskFilter filter, long? before)
    {
        using var connection = dataSource.OpenConnection();
        var rows = connection.Query<TaskRow>(ListSql, new
        {
            filter.Status, filter.Batch, filter.Model, before, limit = PageSize + 1, defaultModel = settings.DefaultModel,
        }).AsList();
        return rows.Count > PageSize ? (rows[..PageSize], true) : (rows, false);
    }

    /// <summary>What each tool call of the task returned to the model, by step.</summary>
    public IReadOnlyDictionary<int, string> ToolOutputs(long id)
    {
        using var connection = dataSource.OpenConnection();
        return connection.Query<(int Seq, string Output)>("""
            select s.seq, string_agg(i ->> 'output', E'\n') from agent.steps s, jsonb_array_elements(s.items) i
             where s.task_id = @id and s.kind = 'tool' and i ->> 'type' = 'function_call_output'
             group by s.seq
            """, new { id }).ToDictionary(r => r.Seq, r => r.Output);
    }

    /// <summary>The worker processes that reported within the last 30 s (<c>agent.worker_stats</c>).</summary>
    public IReadOnlyList<(string Process, string Host, int Pid, DateTime StartedAt, double AgeSeconds, int Runs, int Slots, string Pool)> Workers()
    {
        using var connection = dataSource.OpenConnection();
        return connection.Query<(string, string, int, DateTime, double, int, int, string)>("""
            select process, host, pid, started_at, extract(epoch from now() - updated_at)::float8, runs, slots, pool::text
              from agent.worker_stats where updated_at > now() - interval '30 seconds' order by host, pid
            """).AsList();
    }

    /// <summary>The home page's agent numbers (one round trip, cached for a second: Hangfire asks once per metric).</summary>
    public HomeNumbers Home()
    {
        lock (_homeLock)
        {
            if (_home is { } cached && Environment.TickCount64 - _homeAt < 1000)
            {
                return cached;
            }
            using var connection = dataSource.OpenConnection();
            _home = connection.QuerySingle<HomeNumbers>("""
                select (select count(*) from agent.tasks where status = 'queued') as Queued,
                       (select count(*) from agent.tasks where status = 'running') as Running,
                       (select count(*) from agent.tasks where status = 'succeeded' and finished_at >= date_trunc('day', now())) as SucceededToday,
                       (select count(*) from agent.tasks where status = 'failed' and finished_at >= date_trunc('day', now())) as FailedToday,
                       (select coalesce(sum(input_tokens + output_tokens), 0) from agent.tasks
                         where status in ('succeeded', 'failed', 'cancelled') and finished_at >= date_trunc('day', now())) as TokensToday,
                       (select percentile_cont(0.5) within group (order by duration_ms) from agent.steps
                         where kind = 'model' and started_at >= now() - interval '1 hour') as MedianTurnMs,
                       w.leased as SocketsLeased, w.idle as SocketsIdle
                  from (select coalesce(sum((pool ->> 'leased')::int), 0) as leased, coalesce(sum((pool ->> 'idle')::int), 0) as idle
                          from agent.worker_stats where updated_at > now() - interval '30 seconds') w
                """);
            _homeAt = Environment.TickCount64;
            return _home;
        }
    }

    private readonly Lock _homeLock = new();
    private HomeNumbers? _home;
    private long _homeAt;

    public sealed record HomeNumbers
    {
        public long Queued { get; init; }
        public long Running { get; init; }
        public long SucceededToday { get; init; }
        public long FailedToday { get; init; }
        public long TokensToday { get; init; }
        public double? MedianTurnMs { get; init; }
        public long SocketsLeased { get; init; }
        public long SocketsIdle { get; init; }
    }

    /// <summary>The task list's filters, from the query string.</summary>
    public sealed record TaskFilter(string? Status, long? Batch, string? Model)
    {
        public bool Any => Status is not null || Batch is not null || Model is not null;
    }

    public sealed record TaskRow
    {
        public long Id { get; init; }
        public required string Status { get; init; }
        public required string Prompt { get; init; }
        public long? BatchId { get; init; }
        public string? Model { get; init; }
        public string? HangfireJobId { get; init; }
        public DateTime CreatedAt { get; init; }
        public double? TotalMs { get; init; }
        public int Turns { get; init; }
        public int ToolCalls { get; init; }
        public long InputTokens { get; init; }
        public long CachedTokens { get; init; }
        public long OutputTokens { get; init; }
        public string? Outcome { get; init; }
    }
}
