namespace AgentWorker.Jobs.Tasks;

/// <summary>A step as the API shows it (without the checkpoint items).</summary>
public sealed record StepSummary
{
    public int Seq { get; init; }
    public int Attempt { get; init; }
    public required string Kind { get; init; }
    public DateTime StartedAt { get; init; }
    public double DurationMs { get; init; }
    public double? TtftMs { get; init; }
    public string? Transport { get; init; }
    public string? SocketId { get; init; }
    public bool? SocketReused { get; init; }
    public bool? Chained { get; init; }
    public string? ResponseId { get; init; }
    public int? InputTokens { get; init; }
    public int? CachedTokens { get; init; }
    public int? OutputTokens { get; init; }
    public string? ToolName { get; init; }
    public string? Arguments { get; init; }
    public int? RowCount { get; init; }
    public bool? Truncated { get; init; }
    public string? Error { get; init; }
}
