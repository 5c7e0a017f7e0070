namespace AgentWorker.Jobs.Llm;

/// <summary>Why a model turn failed; the loop and the pool branch on it.</summary>
public enum ModelFailureKind
{
    /// <summary>The socket closed, dropped or went silent mid-turn. Retry on a fresh socket with full context.</summary>
    ConnectionLost,

    /// <summary>A binary, unparseable or out-of-order frame. The socket is discarded.</summary>
    Protocol,

    /// <summary>The server no longer holds the chained parent (<c>previous_response_not_found</c>).</summary>
    PreviousResponseNotFound,

    /// <summary>The socket reached the server's age limit (<c>websocket_connection_limit_reached</c>).</summary>
    ConnectionLimit,

    /// <summary>429 or <c>rate_limit_exceeded</c>.</summary>
    RateLimited,

    /// <summary>A 5xx-class failure or <c>response.failed</c> with a server error.</summary>
    ServerError,

    /// <summary>The request itself was refused (4xx): retrying the same request cannot help.</summary>
    BadRequest,

    /// <summary>The handshake was refused (401, 403 ...).</summary>
    HandshakeRefused,

    /// <summary>
    /// A server message (a WebSocket message, an SSE event, an error body) or a turn's output over
    /// <c>Llm:MaxMessageBytes</c>. Sending the same turn again would bring the same answer: the task fails.
    /// </summary>
    MessageTooLarge,
}
