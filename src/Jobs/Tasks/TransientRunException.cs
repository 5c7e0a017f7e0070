namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// A run stopped by a failure that may pass (the model unreachable or rate-limited past its retries, the database
/// briefly gone). The task was handed back to the queue; Hangfire retries the job with backoff, and the next run
/// resumes from the last stored step.
/// </summary>
public sealed class TransientRunException(long taskId, Exception inner)
    : Exception($"Agent task {taskId} will be retried: {inner?.Message}", inner)
{
    public long TaskId { get; } = taskId;
}
