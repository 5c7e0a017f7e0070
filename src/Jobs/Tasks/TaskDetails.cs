namespace AgentWorker.Jobs.Tasks;

/// <summary>A task as the API shows it: what was asked, its state, result, usage and its steps in order.</summary>
public sealed record TaskDetails
{
    public required long Id { get; init; }
    public required string Status { get; init; }
    public required string Prompt { get; init; }
    public string? Instructions { get; init; }

    /// <summary>
    /// The model the task runs on: the one it ran on once it has run, else its own, else the default (<c>Llm:Model</c>)
    /// as configured where it is read. Null only when none of these is known.
    /// </summary>
    public string? Model { get; init; }

    /// <summary>The model named at enqueue; null means the worker's default.</summary>
    public string? RequestedModel { get; init; }

    public long? BatchId { get; init; }
    public int Priority { get; init; }
    public int MaxSteps { get; init; }
    public int Attempt { get; init; }

    /// <summary>Transient failures handed back for a later attempt in the current run of retries.</summary>
    public int Retries { get; init; }

    public string? IdempotencyKey { get; init; }
    public string? HangfireJobId { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime RunAt { get; init; }
    public DateTime? Deadline { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public string? ResultText { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    public DateTime? CancelRequestedAt { get; init; }
    public string? CancelReason { get; init; }
    public long InputTokens { get; init; }
    public long CachedTokens { get; init; }
    public long OutputTokens { get; init; }
    public long ReasoningTokens { get; init; }

    /// <summary>The named agent the task was enqueued with (its own, or <c>default</c>); null when none.</summary>
    public string? Agent { get; init; }

    /// <summary>
    /// The tools of the task: the tool names its run offered the model once it has run, else the names and
    /// <c>&lt;server&gt;__*</c> patterns it may use (<see cref="ToolPatterns"/>); null: the database tools.
    /// </summary>
    public string[]? Tools { get; init; }

    /// <summary>The tool names and patterns the task may use, resolved at enqueue (its own, else its agent's); null: the database tools.</summary>
    public string[]? ToolPatterns { get; init; }

    public IReadOnlyList<StepSummary> Steps { get; init; } = [];
}
