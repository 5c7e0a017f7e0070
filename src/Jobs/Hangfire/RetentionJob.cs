using AgentWorker.Jobs.Maintenance;
using Hangfire;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// The retention sweep as a Hangfire recurring job (<c>agent-maintenance:retention</c>, on the Recurring Jobs page, where
/// an operator may trigger it): <see cref="RetentionSweep"/>, and the mirror jobs of the failed tasks it removed expire
/// (Hangfire.PostgreSql's expiration manager deletes them on its next pass) rather than linking to nothing. Succeeded
/// and deleted jobs expire a day after they ended already.
/// </summary>
public sealed class RetentionJob(RetentionSweep sweep, JobStorage storage)
{
    public const string RecurringJobId = "agent-maintenance:retention";

    [JobDisplayName("Agent retention: remove finished tasks past Retention__FinishedTasks")]
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RunAsync(CancellationToken cancellationToken) => (await SweepAsync(cancellationToken)).ToString();

    /// <summary>One sweep, and the failed tasks' mirror jobs expired.</summary>
    public Task<RetentionSweep.Result> SweepAsync(CancellationToken cancellationToken) => sweep.SweepAsync(ExpireFailedJobs, cancellationToken);

    private void ExpireFailedJobs(IReadOnlyList<string> jobs)
    {
        using var connection = storage.GetConnection();
        using var transaction = connection.CreateWriteTransaction();
        foreach (var job in jobs)
        {
            transaction.ExpireJob(job, TimeSpan.Zero);
        }
        transaction.Commit();
    }
}
