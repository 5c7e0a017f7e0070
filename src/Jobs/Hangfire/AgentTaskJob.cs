using AgentWorker.Jobs.Tasks;
using Dapper;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// The Hangfire job that mirrors one agent task. The executor creates it straight in Processing and moves it through
/// Scheduled (waiting for a retry) to Succeeded, Failed or Deleted; no Hangfire worker ever fetches it for a run. Its
/// method runs only when an operator presses <b>Requeue</b> (or Trigger): a control worker hands the task back to the
/// executor with <c>agent.requeue</c>, and the new run shows as a new job.
/// </summary>
public sealed class AgentTaskJob([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource)
{
    /// <summary>The queue of the control jobs, the only one (with "default") the Hangfire workers of a worker process serve.</summary>
    public const string ControlQueue = "agent_control";

    /// <summary>How much of the prompt the job's name shows.</summary>
    internal const int ExcerptLength = 60;

    internal static Job For(long taskId, string prompt) =>
        Job.FromExpression<AgentTaskJob>(job => job.RequeueAsync(taskId, Excerpt(prompt), CancellationToken.None), ControlQueue);

    internal static string Excerpt(string prompt)
    {
        var line = prompt.ReplaceLineEndings(" ").Trim();
        return line.Length <= ExcerptLength ? line : StorableText.Cut(line, ExcerptLength) + "…";
    }

    [JobDisplayName("Agent task #{0}: {1}")]
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RequeueAsync(long taskId, string excerpt, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var result = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "select agent.requeue(@taskId)", new { taskId }, cancellationToken: cancellationToken));
        return result == "requeued"
            ? $"Requeued: task #{taskId} runs again from its stored steps; the run shows as a new job"
            : $"Task #{taskId} {result}";
    }
}
