namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The model as the agent loop sees it: a run opens one conversation and sends it turns. Implementations: the pooled
/// Responses WebSocket with HTTP/SSE fallback (<see cref="ModelClient"/>, the default) and any M.E.AI
/// <c>IChatClient</c> (<see cref="ChatClientModel"/>); <see cref="ModelRouter"/> picks one per model, and
/// <see cref="TracedModelPort"/> wraps them with spans and metrics.
/// </summary>
internal interface IModelPort
{
    /// <summary>A conversation for one run of task <paramref name="taskId"/> on <paramref name="model"/>.</summary>
    IModelConversation OpenConversation(string model, long taskId);
}
