namespace AgentWorker.Jobs.Tasks;

/// <summary>What <c>agent.retry</c> did (its return values, in the same order).</summary>
public enum RetryOutcome
{
    /// <summary>Queued again, due now; its next run resumes from its stored steps (<c>queued</c>).</summary>
    Queued,

    /// <summary>There is no such task (<c>not_found</c>).</summary>
    NotFound,

    /// <summary>It is queued or running (<c>not_finished</c>).</summary>
    NotFinished,

    /// <summary>It succeeded; a succeeded task is not run again (<c>succeeded</c>).</summary>
    Succeeded,

    /// <summary>Its deadline has passed, so it would fail at once (<c>deadline_passed</c>).</summary>
    DeadlinePassed,

    /// <summary>
    /// It failed with <c>tool_in_doubt</c> and no decision was given: nothing changed. Check whether the call took
    /// effect, then retry with <see cref="InDoubtDecision.Rerun"/> or <see cref="InDoubtDecision.Skip"/> (<c>in_doubt</c>).
    /// </summary>
    InDoubt,
}
