namespace AgentWorker.Jobs.Llm;

/// <summary>How turns reach the model (<c>Llm:Transport</c>).</summary>
public enum ModelTransport
{
    /// <summary>Pooled WebSockets, turns chained with <c>previous_response_id</c>; HTTP only as a fallback.</summary>
    WebSocket,

    /// <summary>One <c>POST /responses</c> with SSE per turn, full context each time.</summary>
    Http,
}
