using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Runs;

/// <summary>One row of a claim: the task as its run sees it, and what the executor needs around it.</summary>
internal sealed record ClaimedTask
{
    public required long Id { get; init; }
    public required string Prompt { get; init; }
    public string? Instructions { get; init; }
    public string? Model { get; init; }
    public required int MaxSteps { get; init; }
    public DateTime? Deadline { get; init; }
    public required int Attempt { get; init; }
    public required int LastSeq { get; init; }
    public bool CancelRequested { get; init; }

    /// <summary>This run's claim: every guarded write names it, so a run that lost its claim writes nothing.</summary>
    public required string Owner { get; init; }

    public short Priority { get; init; }
    public int Retries { get; init; }

    /// <summary>The task's mirror job, when one exists already (an earlier attempt made it).</summary>
    public string? HangfireJobId { get; init; }

    /// <summary>False when the model is at its shared cap: the task is snoozed instead of run.</summary>
    public bool SlotAcquired { get; init; }

    public AgentTask ToAgentTask() => new()
    {
        Id = Id,
        Prompt = Prompt,
        Instructions = Instructions,
        Model = Model,
        MaxSteps = MaxSteps,
        Deadline = Deadline,
        Attempt = Attempt,
        LastSeq = LastSeq,
        CancelRequested = CancelRequested,
    };
}
