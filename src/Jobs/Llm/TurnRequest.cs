namespace AgentWorker.Jobs.Llm;

/// <summary>What one turn sends: the settings, the tools offered and the conversation so far.</summary>
internal sealed record TurnRequest
{
    public required string Model { get; init; }

    /// <summary>System instructions, sent with every turn.</summary>
    public string? Instructions { get; init; }

    public required ToolSet Tools { get; init; }

    /// <summary>The whole conversation, oldest first (see <see cref="IModelConversation.RunTurnAsync"/>).</summary>
    public required IReadOnlyList<ConversationItem> Items { get; init; }

    /// <summary><c>none</c>, <c>minimal</c>, <c>low</c>, <c>medium</c> or <c>high</c>; null sends none.</summary>
    public string? ReasoningEffort { get; init; }

    /// <summary>Upper bound on the tokens of the turn (reasoning included); null sends none.</summary>
    public int? MaxOutputTokens { get; init; }
}
