using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Retries of rate-limited and transient turns (Polly), honouring the server's hint, for every implementation of the
/// model port: a turn is sent again only when that is safe (<see cref="ModelException.IsTransient"/>).
/// </summary>
internal sealed partial class TurnRetries
{
    private readonly ILogger<TurnRetries> _logger;

    public TurnRetries(ModelWaits waits, IOptions<LlmOptions> options, TimeProvider time, ILogger<TurnRetries> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        var llm = options.Value;
        Pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ModelException>(e => e.IsTransient),
                MaxRetryAttempts = llm.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = llm.RetryBaseDelay,
                MaxDelay = llm.RetryMaxDelay,
                // The server's hint wins over the computed backoff (capped like it).
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is ModelException { RetryAfter: { } hint }
                    ? (TimeSpan?)(hint < llm.RetryMaxDelay ? hint : llm.RetryMaxDelay)
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
    }

    public ResiliencePipeline Pipeline { get; }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning,
        Message = "Model turn failed ({Kind}); retry {Attempt} in {DelayMs:F0} ms: {Reason}")]
    private partial void LogRetrying(ModelFailureKind kind, double delayMs, int attempt, string reason);
}
