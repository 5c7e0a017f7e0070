using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// One row of a claim: the task as its run sees it (the loop gets it as an <see cref="AgentTask"/>), and what the
/// executor needs around it.
/// </summary>
internal sealed record ClaimedTask : AgentTask
{
    /// <summary>This run's claim: every guarded write names it, so a run that lost its claim writes nothing.</summary>
    public required string Owner { get; init; }

    public int Retries { get; init; }

    /// <summary>The task's mirror job, when one exists already (an earlier attempt made it).</summary>
    public string? HangfireJobId { get; init; }

    /// <summary>The W3C traceparent of the enqueue that made the task, when it was traced: the run's span links to it.</summary>
    public string? TraceParent { get; init; }

    /// <summary>Seconds from when the task came due to this claim; null for a take-over of an expired claim.</summary>
    public double? QueueWaitSeconds { get; init; }

    /// <summary>False when the model is at its shared cap: the task is snoozed instead of run.</summary>
    public bool SlotAcquired { get; init; }
}
