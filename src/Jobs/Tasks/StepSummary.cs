namespace AgentWorker.Jobs.Tasks;

/// <summary>A step as the API shows it (without the checkpoint items).</summary>
public sealed record StepSummary
{
    public int Seq { get; init; }
    public int Attempt { get; init; }
    public required string Kind { get; init; }
    public DateTime StartedAt { get; init; }
    public double DurationMs { get; init; }

    // Model steps.

    /// <summary>Time to the first output event.</summary>
    public double? TtftMs { get; init; }

    /// <summary>Time inside the transport (request sent to terminal event); <see cref="DurationMs"/> minus this is the worker's own.</summary>
    public double? ModelMs { get; init; }

    /// <summary><c>ws</c> or <c>http</c>.</summary>
    public string? Transport { get; init; }

    public string? SocketId { get; init; }
    public bool? SocketReused { get; init; }

    /// <summary>Sent only the new items with <c>previous_response_id</c>.</summary>
    public bool? Chained { get; init; }

    /// <summary>Requests sent for this turn (1 when nothing went wrong).</summary>
    public int? Attempts { get; init; }

    /// <summary>What went wrong and how it was recovered (e.g. a full resend on a fresh socket), when anything did.</summary>
    public string? Recovery { get; init; }

    /// <summary>Bytes of the request that produced the turn.</summary>
    public int? RequestBytes { get; init; }

    public string? ResponseId { get; init; }
    public int? InputTokens { get; init; }
    public int? CachedTokens { get; init; }
    public int? OutputTokens { get; init; }
    public int? ReasoningTokens { get; init; }

    // Tool steps.

    public string? ToolName { get; init; }
    public string? Arguments { get; init; }
    public int? RowCount { get; init; }
    public bool? Truncated { get; init; }
    public string? Error { get; init; }
}
