namespace AgentWorker.Jobs.Tasks;

/// <summary>The failure a failed task's Hangfire job shows: the error code and message stored on the task.</summary>
internal sealed class AgentTaskFailedException(long taskId, string errorCode, string? errorMessage)
    : Exception($"Agent task {taskId} failed ({errorCode}): {errorMessage}")
{
    public long TaskId { get; } = taskId;

    public string ErrorCode { get; } = errorCode;
}
