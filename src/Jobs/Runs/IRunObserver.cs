using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// The run events, for whoever mirrors the runs (the Hangfire adapter): each one is raised after what it tells is
/// stored in <c>agent.tasks</c>. Raised on the run's own flow: an observer only queues the event, never blocks.
/// </summary>
internal interface IRunObserver
{
    /// <summary>A run claimed the task and starts.</summary>
    void Claimed(ClaimedTask task);

    /// <summary>The task waits in the queue until <paramref name="until"/>: snoozed at its model's cap, or handed back.</summary>
    void Waiting(ClaimedTask task, DateTimeOffset until, string reason);

    /// <summary>A transient failure: the task runs again at <paramref name="at"/>.</summary>
    void RetryLater(ClaimedTask task, DateTimeOffset at, string reason);

    /// <summary>The task finished (succeeded, failed or cancelled); <paramref name="cancelReason"/> as stored on it.</summary>
    void Finished(ClaimedTask task, TaskOutcome outcome, string? cancelReason, TimeSpan duration);
}
