namespace AgentWorker.Jobs.Runs;

/// <summary>Why a run ended: decided once per run, and mapped to exactly one write (or none).</summary>
internal enum StopReason
{
    /// <summary>The loop finished: the task succeeded, or failed for a reason of its own (max steps, tool errors).</summary>
    Completed,

    /// <summary>The run failed for good: a permanent error, or a transient one with no retry left.</summary>
    Failed,

    /// <summary>The task passed its deadline.</summary>
    Deadline,

    /// <summary>Someone cancelled the task (SQL, REST, or deleting its Hangfire job).</summary>
    Cancelled,

    /// <summary>A transient failure: the task goes back to the queue for a later attempt.</summary>
    Retry,

    /// <summary>The process is stopping: the task goes back to the queue, due now, for another process.</summary>
    Shutdown,

    /// <summary>The claim expired and another run took the task over: nothing more is written.</summary>
    LeaseLost,
}
