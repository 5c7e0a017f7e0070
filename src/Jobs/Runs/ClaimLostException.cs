namespace AgentWorker.Jobs.Runs;

/// <summary>
/// A run's write found its task claimed by another run (its claim expired while it was alive, before a heartbeat told
/// it): nothing was written, and the run must stop without calling anything more. <see cref="TaskRunner"/> ends it as
/// <see cref="RunResult.ClaimLost"/>.
/// </summary>
internal sealed class ClaimLostException(long taskId, string what)
    : Exception($"Task {taskId} is no longer this run's (another run took it over): {what}.")
{
    public long TaskId { get; } = taskId;
}
