namespace AgentWorker.Jobs.Tasks;

/// <summary>A task as the API shows it: state, result, usage and its steps in order.</summary>
public sealed record TaskDetails
{
    public required long Id { get; init; }
    public required string Status { get; init; }
    public required string Prompt { get; init; }
    public string? Model { get; init; }
    public int Priority { get; init; }
    public int MaxSteps { get; init; }
    public int Attempt { get; init; }
    public string? IdempotencyKey { get; init; }
    public string? HangfireJobId { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public string? ResultText { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    public long InputTokens { get; init; }
    public long CachedTokens { get; init; }
    public long OutputTokens { get; init; }
    public long ReasoningTokens { get; init; }
    public IReadOnlyList<StepSummary> Steps { get; init; } = [];
}
