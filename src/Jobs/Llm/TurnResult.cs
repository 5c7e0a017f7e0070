namespace AgentWorker.Jobs.Llm;

/// <summary>A completed turn: what the model answered, its usage and timings, and how it travelled.</summary>
internal sealed record TurnResult
{
    /// <summary>The response's id, when the model gave one.</summary>
    public required string? ResponseId { get; init; }

    /// <summary>The output items (messages, function calls, reasoning), in order.</summary>
    public required IReadOnlyList<ConversationItem> Output { get; init; }

    public required TokenUsage Usage { get; init; }

    /// <summary>The model that answered, as the response names it (a dated snapshot of the one asked for), when it does.</summary>
    public string? ResponseModel { get; init; }

    /// <summary>Milliseconds from sending the request to the first output (time to first token); the whole turn when not streamed.</summary>
    public required double TimeToFirstOutputMs { get; init; }

    /// <summary>Milliseconds from sending the request to the answer: the model's and the network's share.</summary>
    public required double TransportMs { get; init; }

    /// <summary>Bytes of the request as sent, when the implementation knows them.</summary>
    public int? RequestBytes { get; init; }

    /// <summary>WebSocket or HTTP for the Responses implementation; null for an <c>IChatClient</c> (its own business).</summary>
    public ModelTransport? Transport { get; init; }

    public string? SocketId { get; init; }

    /// <summary>Whether the socket had served before this turn (no handshake paid for it).</summary>
    public bool? SocketReused { get; init; }

    /// <summary>Whether the turn sent only the new items and a cursor to the server's copy of the rest.</summary>
    public required bool Chained { get; init; }

    /// <summary>Requests sent for this turn (1 when nothing went wrong).</summary>
    public required int Attempts { get; init; }

    /// <summary>What went wrong and how it was recovered, in order; null when nothing did.</summary>
    public string? Recovery { get; init; }
}
