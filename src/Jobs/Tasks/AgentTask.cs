namespace AgentWorker.Jobs.Tasks;

/// <summary>A claimed task, as the run sees it. Not sealed: the executor's claim row (<c>ClaimedTask</c>) extends it.</summary>
internal record AgentTask
{
    public required long Id { get; init; }

    public required string Prompt { get; init; }

    public string? Instructions { get; init; }

    public string? Model { get; init; }

    public required int MaxSteps { get; init; }

    /// <summary>UTC.</summary>
    public DateTime? Deadline { get; init; }

    /// <summary>1 for the first run, 2 after one retry or take-over ...</summary>
    public required int Attempt { get; init; }

    /// <summary>Highest step number already stored for this task (0 when none).</summary>
    public required int LastSeq { get; init; }

    /// <summary>The named agent the task was enqueued with; null when none.</summary>
    public string? Agent { get; init; }

    /// <summary>The tool names and <c>&lt;server&gt;__*</c> patterns the task may use; null: the database tools.</summary>
    public string[]? ToolPatterns { get; init; }

    /// <summary>Someone asked to cancel the task (<c>agent.cancel</c>) while it ran.</summary>
    public bool CancelRequested { get; init; }
}
