using System.ClientModel;
using System.Net;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// What an <see cref="Microsoft.Extensions.AI.IChatClient"/> threw, as the model failure kinds the retries and the run
/// branch on: 429 rate limited, 5xx and timeouts transient (retried), 401/403 refused, other 4xx bad request, no
/// answer at all a lost connection. The OpenAI and Azure SDK clients report HTTP errors as
/// <see cref="ClientResultException"/>, others as <see cref="HttpRequestException"/>.
/// </summary>
internal static class ChatClientFailures
{
    /// <summary>The failure as a <see cref="ModelException"/>; null for a cancellation of <paramref name="cancellationToken"/>.</summary>
    public static ModelException? ToModelException(Exception exception, string model, CancellationToken cancellationToken)
    {
        var what = $"The chat client of model \"{model}\" failed: {exception.Message}";
        return exception switch
        {
            ModelException => null,
            OperationCanceledException when cancellationToken.IsCancellationRequested => null,
            OperationCanceledException or TimeoutException =>
                new ModelException(ModelFailureKind.ServerError, $"The chat client of model \"{model}\" timed out.", inner: exception),
            ClientResultException { Status: > 0 } result => FromStatus(result.Status, what, exception,
                (result.GetRawResponse() is { } raw ? RetryHint.FromHeaders(raw.Headers) : null) ?? RetryHint.FromMessage(exception.Message)),
            ClientResultException or HttpRequestException { StatusCode: null } =>
                new ModelException(ModelFailureKind.ConnectionLost, what, inner: exception),
            HttpRequestException { StatusCode: { } status } => FromStatus((int)status, what, exception, RetryHint.FromMessage(exception.Message)),
            _ => new ModelException(ModelFailureKind.BadRequest, what, inner: exception),
        };
    }

    private static ModelException FromStatus(int status, string message, Exception inner, TimeSpan? retryAfter)
    {
        var kind = status switch
        {
            (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden => ModelFailureKind.HandshakeRefused,
            (int)HttpStatusCode.TooManyRequests => ModelFailureKind.RateLimited,
            (int)HttpStatusCode.RequestTimeout or >= 500 => ModelFailureKind.ServerError,
            _ => ModelFailureKind.BadRequest,
        };
        return new ModelException(kind, message, status: status, inner: inner, retryAfter: retryAfter);
    }
}
