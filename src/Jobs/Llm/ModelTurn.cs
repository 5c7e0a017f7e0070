namespace AgentWorker.Jobs.Llm;

/// <summary>A completed Responses turn on one transport: the response id, its output items, usage and timings.</summary>
internal sealed record ModelTurn
{
    public required string ResponseId { get; init; }

    /// <summary>The response's output items (messages, function calls, reasoning), in order.</summary>
    public required IReadOnlyList<ConversationItem> Output { get; init; }

    public required TokenUsage Usage { get; init; }

    /// <summary>Milliseconds from sending the request to the first output item or delta (time to first token).</summary>
    public required double TimeToFirstOutputMs { get; init; }

    /// <summary>Milliseconds from sending the request to the terminal event: the model's and the network's share.</summary>
    public required double TransportMs { get; init; }

    /// <summary>The model that answered, as the response names it (a dated snapshot of the one asked for), when it does.</summary>
    public string? ResponseModel { get; init; }

    /// <summary>Bytes of the request as sent.</summary>
    public required int RequestBytes { get; init; }
}
