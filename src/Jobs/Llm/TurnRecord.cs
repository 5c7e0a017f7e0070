namespace AgentWorker.Jobs.Llm;

/// <summary>A completed turn and how it travelled: what a model step records.</summary>
internal sealed record TurnRecord
{
    public required ModelTurn Turn { get; init; }

    /// <summary><c>ws</c> or <c>http</c>.</summary>
    public required string Transport { get; init; }

    public string? SocketId { get; init; }

    /// <summary>Whether the socket had served before this turn (no handshake paid for it).</summary>
    public bool? SocketReused { get; init; }

    /// <summary>Whether the turn sent only new items plus <c>previous_response_id</c>.</summary>
    public required bool Chained { get; init; }

    /// <summary>Requests sent for this turn (1 when nothing went wrong).</summary>
    public required int Attempts { get; init; }

    /// <summary>What went wrong and how it was recovered, in order; null when nothing did.</summary>
    public string? Recovery { get; init; }
}
