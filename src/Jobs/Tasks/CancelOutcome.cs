namespace AgentWorker.Jobs.Tasks;

/// <summary>What <c>agent.cancel</c> did (its return values, in the same order).</summary>
public enum CancelOutcome
{
    /// <summary>The task was queued and is cancelled now (<c>cancelled</c>).</summary>
    Cancelled,

    /// <summary>The task is running; its worker stops it within a second and keeps its steps (<c>stop_requested</c>).</summary>
    StopRequested,

    /// <summary>The task had already succeeded, failed or been cancelled; nothing changed (<c>already_finished</c>).</summary>
    AlreadyFinished,

    /// <summary>There is no such task (<c>not_found</c>).</summary>
    NotFound,
}
