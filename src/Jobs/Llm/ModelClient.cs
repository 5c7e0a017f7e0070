using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The model as the agent loop sees it: opens a <see cref="ModelSession"/> per run. Owns the resilience policies
/// (Polly): retries of rate-limited and transient turns, honouring the server's hint, and the WebSocket circuit
/// breaker that sends turns over HTTP while sockets cannot be opened, probing WebSocket again after a cool-down.
/// </summary>
internal sealed partial class ModelClient
{
    public ModelClient(
        SocketPool pool, HttpResponsesClient http, ModelWaits waits, IOptions<LlmOptions> options, TimeProvider time,
        ILogger<ModelClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Pool = pool;
        Http = http;
        Options = options.Value;
        _logger = logger;
        Retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ModelException>(e => e.IsTransient),
                MaxRetryAttempts = Options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.RetryBaseDelay,
                MaxDelay = Options.RetryMaxDelay,
                // The server's hint wins over the computed backoff (capped like it).
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is ModelException { RetryAfter: { } hint }
                    ? (TimeSpan?)(hint < Options.RetryMaxDelay ? hint : Options.RetryMaxDelay)
                    : null),
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is ModelException ex)
                    {
                        if (ex.Kind == ModelFailureKind.RateLimited)
                        {
                            waits.RecordRateLimit(ex.RetryAfter);
                        }
                        LogRetrying(ex.Kind, args.RetryDelay.TotalMilliseconds, args.AttemptNumber + 1, ex.Message);
                    }
                    return default;
                },
            })
            .Build();
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

    private readonly ILogger<ModelClient> _logger;

    internal ResiliencePipeline Retry { get; }

    internal ResiliencePipeline WebSocketBreaker { get; }

    /// <summary>A session for one run: the socket lease is taken at the first turn and held until disposal.</summary>
    public ModelSession OpenSession(long taskId) => new(this, taskId);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning,
        Message = "Model turn failed ({Kind}); retry {Attempt} in {DelayMs:F0} ms: {Reason}")]
    private partial void LogRetrying(ModelFailureKind kind, double delayMs, int attempt, string reason);

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
