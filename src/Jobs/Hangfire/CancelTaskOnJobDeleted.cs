using Dapper;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Npgsql;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// Deleting a task's job in the Hangfire dashboard cancels the task (<c>agent.cancel</c>): a queued one at once, a
/// running one within about a second (the NOTIFY reaches its worker). Only the task's current job does: deleting an
/// old job (one a Requeue superseded) changes nothing. Registered in every process that can delete jobs.
/// </summary>
public sealed class CancelTaskOnJobDeleted : IApplyStateFilter
{
    /// <summary>The cancel reason stored on the task; the executor then leaves the job Deleted as the operator left it.</summary>
    public const string Reason = "its Hangfire job was deleted";

    private static readonly CancelTaskOnJobDeleted s_instance = new();
    private static int s_registered;
    private string? _connectionString;

    private CancelTaskOnJobDeleted()
    {
    }

    /// <summary>
    /// Hangfire's filters are process-wide: the filter is added once, and follows the App database of the host that
    /// registered last (one per process in production; one at a time in tests).
    /// </summary>
    public static void Register(IGlobalConfiguration configuration, string connectionString)
    {
        s_instance._connectionString = connectionString;
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            configuration.UseFilter(s_instance);
        }
    }

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.NewState is not DeletedState
            || context.BackgroundJob.Job?.Type != typeof(AgentTaskJob)
            || context.BackgroundJob.Job.Args.Count == 0
            || context.BackgroundJob.Job.Args[0] is not long taskId
            || _connectionString is not { } connectionString)
        {
            return;
        }
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        connection.Execute("""
            select agent.cancel(t.id, @reason) from agent.tasks t
             where t.id = @taskId and (t.hangfire_job_id = @jobId or t.hangfire_job_id is null)
            """, new { taskId, jobId = context.BackgroundJob.Id, reason = Reason });
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
