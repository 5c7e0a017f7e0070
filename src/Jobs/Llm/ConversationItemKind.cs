namespace AgentWorker.Jobs.Llm;

/// <summary>What a <see cref="ConversationItem"/> is, as the agent loop reads it.</summary>
internal enum ConversationItemKind
{
    /// <summary>The task's prompt (or any message of the user).</summary>
    UserMessage,

    /// <summary>Text the model answered.</summary>
    AssistantMessage,

    /// <summary>A tool the model asked to call: <see cref="ConversationItem.CallId"/>, name and arguments.</summary>
    FunctionCall,

    /// <summary>What a call returned, sent back to the model.</summary>
    FunctionCallOutput,

    /// <summary>A reasoning model's reasoning: opaque, kept whole so a full resend can replay it.</summary>
    Reasoning,

    /// <summary>Anything else a model sent (a web search call ...): kept and replayed as it came.</summary>
    Other,
}
