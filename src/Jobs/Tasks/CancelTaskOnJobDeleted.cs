using Dapper;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// Deleting a task's job in the Hangfire dashboard cancels the task (<c>agent.cancel</c>): a queued one at once, a
/// running one within about a second (the NOTIFY reaches its worker). Registered in every process that can delete
/// jobs: the dashboard and the worker.
/// </summary>
public sealed class CancelTaskOnJobDeleted : IApplyStateFilter
{
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
            || context.BackgroundJob.Job?.Type != typeof(RunAgentTaskJob)
            || context.BackgroundJob.Job.Args.Count == 0
            || context.BackgroundJob.Job.Args[0] is not long taskId
            || _connectionString is not { } connectionString)
        {
            return;
        }
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        connection.Execute("select agent.cancel(@taskId)", new { taskId });
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
