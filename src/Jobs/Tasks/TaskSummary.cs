namespace AgentWorker.Jobs.Tasks;

/// <summary>A task in a listing: state, outcome and usage, without steps.</summary>
public sealed record TaskSummary
{
    public required long Id { get; init; }
    public required string Status { get; init; }
    public required string Prompt { get; init; }
    public long? BatchId { get; init; }
    public string? Model { get; init; }

    /// <summary>The named agent the task was enqueued with; null when none.</summary>
    public string? Agent { get; init; }

    public int Priority { get; init; }
    public int Attempt { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public string? ResultText { get; init; }
    public string? ErrorCode { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
}
