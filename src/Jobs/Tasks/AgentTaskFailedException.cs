namespace AgentWorker.Jobs.Tasks;

/// <summary>Thrown by the Hangfire job after a task was stored as failed, so the dashboard shows the job failed with the reason.</summary>
public sealed class AgentTaskFailedException(long taskId, string errorCode, string? errorMessage)
    : Exception($"Agent task {taskId} failed ({errorCode}): {errorMessage}")
{
    public long TaskId { get; } = taskId;

    public string ErrorCode { get; } = errorCode;
}
