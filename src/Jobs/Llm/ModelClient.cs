using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The default implementation of the model port: the Responses API over pooled WebSockets, turns chained with
/// <c>previous_response_id</c>, HTTP/SSE as the fallback. Opens a <see cref="ModelSession"/> per run. Owns the WebSocket
/// circuit breaker (Polly) that sends turns over HTTP while sockets cannot be opened, probing WebSocket again after a
/// cool-down; retries are <see cref="TurnRetries"/>.
/// </summary>
internal sealed partial class ModelClient : IModelPort
{
    /// <summary>The GenAI provider of the Responses API, or of one compatible with it.</summary>
    public const string Provider = "openai";

    public ModelClient(
        SocketPool pool, HttpResponsesClient http, TurnRetries retries, IOptions<LlmOptions> options, TimeProvider time,
        ILogger<ModelClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(retries);
        Pool = pool;
        Http = http;
        Options = options.Value;
        _logger = logger;
        Retry = retries.Pipeline;
        Endpoint = new ModelEndpoint(Provider, Options.BaseUrl);
        WebSocketBreaker = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ModelException>(e => e.Kind == ModelFailureKind.ConnectionLost),
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = Options.WebSocketRetryAfter,
                OnOpened = args =>
                {
                    LogBreakerOpened(args.BreakDuration.TotalSeconds);
                    return default;
                },
            })
            .Build();
    }

    internal SocketPool Pool { get; }

    internal HttpResponsesClient Http { get; }

    internal LlmOptions Options { get; }

    internal ModelEndpoint Endpoint { get; }

    private readonly ILogger<ModelClient> _logger;

    internal ResiliencePipeline Retry { get; }

    internal ResiliencePipeline WebSocketBreaker { get; }

    /// <summary>A session for one run: the socket lease is taken at the first turn and held until disposal.</summary>
    public IModelConversation OpenConversation(string model, long taskId) => new ModelSession(this, taskId);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning,
        Message = "WebSocket connects keep failing: turns go over HTTP for {BreakSeconds:F0} s, then WebSocket is probed again")]
    private partial void LogBreakerOpened(double breakSeconds);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning,
        Message = "Task {TaskId}: socket {SocketId} failed ({Kind}): {Reason}; resending the full transcript on a fresh socket")]
    internal partial void LogRecovering(long taskId, string socketId, ModelFailureKind kind, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning,
        Message = "Task {TaskId}: no WebSocket ({Reason}); this turn goes over HTTP")]
    internal partial void LogHttpFallback(long taskId, string reason);
}
