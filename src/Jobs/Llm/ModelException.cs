namespace AgentWorker.Jobs.Llm;

/// <summary>A model turn that did not complete. <see cref="Kind"/> says whether and how to recover.</summary>
internal sealed class ModelException(
    ModelFailureKind kind, string message, string? code = null, int? status = null, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    /// <summary>The server's hint of when to retry (Retry-After, retry-after-ms, "try again in 1.5s").</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public ModelFailureKind Kind { get; } = kind;

    /// <summary>The server's error code (<c>previous_response_not_found</c> ...), when it sent one.</summary>
    public string? Code { get; } = code;

    /// <summary>The HTTP-like status of the server's error, when it sent one.</summary>
    public int? Status { get; } = status;

    /// <summary>Whether the turn may be sent again on a fresh socket with the full transcript.</summary>
    public bool IsRecoverableOnFreshSocket => Kind is ModelFailureKind.ConnectionLost or ModelFailureKind.Protocol
        or ModelFailureKind.PreviousResponseNotFound or ModelFailureKind.ConnectionLimit;

    /// <summary>Whether sending the same turn again, after a wait, may succeed.</summary>
    public bool IsTransient => Kind is ModelFailureKind.RateLimited or ModelFailureKind.ServerError;

    /// <summary>A server message over the cap: permanent for the turn, read no further than the cap.</summary>
    public static ModelException MessageTooLarge(string what, int limit) => new(ModelFailureKind.MessageTooLarge,
        $"{what} was over {limit} bytes (Llm:MaxMessageBytes); it was not read further, and the turn was not sent again. "
        + "Raise Llm:MaxMessageBytes, or bound the model's output (Llm:MaxOutputTokens).");

    /// <summary>Whether the socket may still serve later turns.</summary>
    public bool SocketStillUsable => Kind is ModelFailureKind.BadRequest or ModelFailureKind.RateLimited
        or ModelFailureKind.ServerError;
}
