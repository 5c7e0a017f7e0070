namespace AgentWorker.Jobs.Tasks;

/// <summary>One row of <c>agent.steps</c>: a model turn or a tool call, with its timings.</summary>
internal sealed record StepRecord
{
    public required long TaskId { get; init; }
    public required int Attempt { get; init; }
    public required int Seq { get; init; }
    public required string Kind { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public required double DurationMs { get; init; }
    public double? TtftMs { get; init; }
    public string? Transport { get; init; }
    public string? SocketId { get; init; }
    public bool? SocketReused { get; init; }
    public bool? Chained { get; init; }
    public string? ResponseId { get; init; }
    public long? InputTokens { get; init; }
    public long? CachedTokens { get; init; }
    public long? OutputTokens { get; init; }
    public long? ReasoningTokens { get; init; }
    public int? Attempts { get; init; }
    public string? Recovery { get; init; }
    public int? RequestBytes { get; init; }
    public double? ModelMs { get; init; }
    public string? ToolName { get; init; }
    public string? CallId { get; init; }
    public string? Arguments { get; init; }
    public int? RowCount { get; init; }
    public bool? Truncated { get; init; }
    public string? Error { get; init; }

    /// <summary>A journaled call (a tool with side effects): storing the step also marks its journal entry finished.</summary>
    public bool Journaled { get; init; }

    /// <summary>JSON array of the conversation items this step added (the checkpoint).</summary>
    public required string Items { get; init; }
}
