namespace AgentWorker.Jobs.Runs;

/// <summary>A stop asked of a run from outside it; the first one asked stands, and decides the run's <see cref="RunResult"/>.</summary>
internal enum StopReason
{
    /// <summary>Someone cancelled the task (SQL, REST, or deleting its Hangfire job): <see cref="RunResult.Cancelled"/>.</summary>
    Cancelled,

    /// <summary>The process is stopping: <see cref="RunResult.HandedBack"/>.</summary>
    Shutdown,

    /// <summary>The claim expired and another run took the task over: <see cref="RunResult.ClaimLost"/>.</summary>
    LeaseLost,
}
