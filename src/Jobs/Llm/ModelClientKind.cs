namespace AgentWorker.Jobs.Llm;

/// <summary>The implementation of the model port a model's turns go to (<c>Llm:Models:&lt;model&gt;:Client</c>).</summary>
internal enum ModelClientKind
{
    /// <summary>The Responses API over pooled WebSockets (turns chained), HTTP/SSE as the fallback.</summary>
    Responses,

    /// <summary>
    /// The <c>Microsoft.Extensions.AI.IChatClient</c> registered for the model's name: the whole conversation is sent each
    /// turn, nothing is chained.
    /// </summary>
    ChatClient,
}
