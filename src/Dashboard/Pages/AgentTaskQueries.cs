using AgentWorker.Jobs.Tasks;
using Dapper;
using Npgsql;

namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// The reads behind the dashboard's agent pages. Synchronous on purpose: Hangfire renders pages synchronously,
/// as its own pages read their storage.
/// </summary>
internal sealed class AgentTaskQueries([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource, DefaultModel defaultModel)
{
    private const string RecentSql = """
        select t.id, t.status, t.prompt, t.hangfire_job_id as HangfireJobId, t.created_at as CreatedAt,
               extract(epoch from t.finished_at - t.created_at) * 1000 as TotalMs,
               (select count(*) from agent.steps s where s.task_id = t.id and s.kind = 'model')::int as Turns,
               (select count(*) from agent.steps s where s.task_id = t.id and s.kind = 'tool')::int as ToolCalls,
               t.input_tokens as InputTokens, t.cached_tokens as CachedTokens, t.output_tokens as OutputTokens,
               coalesce(t.result_text, t.error_code || ': ' || t.error_message) as Outcome
          from agent.tasks t
         where @status::text is null or t.status = @status
         order by t.id desc
         limit @limit
        """;

    public IReadOnlyList<TaskRow> Recent(string? status, int limit)
    {
        using var connection = dataSource.OpenConnection();
        return connection.Query<TaskRow>(RecentSql, new { status, limit }).AsList();
    }

    public TaskDetails? Task(long id)
    {
        using var connection = dataSource.OpenConnection();
        using var results = connection.QueryMultiple(TaskClient.TaskSql, new { id, defaultModel = defaultModel.Name });
        var task = results.ReadSingleOrDefault<TaskDetails>();
        return task is null ? null : task with { Steps = results.Read<StepSummary>().AsList() };
    }

    public sealed record TaskRow
    {
        public long Id { get; init; }
        public required string Status { get; init; }
        public required string Prompt { get; init; }
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
