using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Llm;

/// <summary>The model endpoint and the socket pool. Section <c>Llm</c> (environment: <c>Llm__BaseUrl</c> ...).</summary>
public sealed class LlmOptions : IValidatableObject
{
    public const string SectionName = "Llm";

    /// <summary>Responses API base URL; <c>/responses</c> is appended. Default <c>https://api.openai.com/v1</c>.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("https://api.openai.com/v1");

    /// <summary>Bearer key. When empty, <c>OPENAI_API_KEY</c> is read. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Model for tasks that name none. Required: there is no sensible default.</summary>
    [Required(ErrorMessage = "Llm:Model (environment Llm__Model) must name the model for tasks that name none.")]
    public string? Model { get; set; }

    /// <summary>
    /// Reasoning effort for reasoning models (<c>none</c>, <c>minimal</c>, <c>low</c>, <c>medium</c>, <c>high</c>), sent as
    /// <c>reasoning.effort</c>; unset sends nothing and the model's default applies. Default unset.
    /// </summary>
    [RegularExpression("^(none|minimal|low|medium|high)$",
        ErrorMessage = "Llm:ReasoningEffort (environment Llm__ReasoningEffort) must be none, minimal, low, medium or high.")]
    public string? ReasoningEffort { get; set; }

    /// <summary>Upper bound on the tokens of one model turn (reasoning included), sent as <c>max_output_tokens</c>. Default unset.</summary>
    [Range(16, 1_000_000, ErrorMessage = "Llm:MaxOutputTokens (environment Llm__MaxOutputTokens) must be between 16 and 1000000.")]
    public int? MaxOutputTokens { get; set; }

    /// <summary>
    /// Options per model name (<c>Llm__Models__gpt-5-mini__ReasoningEffort=high</c>, <c>Llm__Models__claude__Client=ChatClient</c>).
    /// A task on another model than <see cref="Model"/> gets its entry's reasoning effort and output cap; on a model not
    /// listed, no <c>reasoning.effort</c> is sent (a model without reasoning refuses it) and <see cref="MaxOutputTokens"/>
    /// applies. <see cref="ModelOptions.Client"/> picks what runs the model's turns, for every model, the default one too.
    /// </summary>
    public Dictionary<string, ModelOptions> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>Extra headers on every request and WebSocket upgrade (e.g. <c>OpenAI-Organization</c>, <c>OpenAI-Beta</c>).</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>websocket</c> (default: pooled sockets, chained turns) or <c>http</c> (one SSE POST per turn, full context).</summary>
    public ModelTransport Transport { get; set; } = ModelTransport.WebSocket;

    /// <summary>Sockets kept open and idle, ready for the next run. Default 0.</summary>
    [Range(0, 10_000)]
    public int MinWarm { get; set; }

    /// <summary>An idle socket above <see cref="MinWarm"/> is closed after this long. Default 5 min.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the pool tops up, prunes and recycles. Default 1 s.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most sockets this process holds open at once. Default 64.</summary>
    [Range(1, 10_000)]
    public int MaxSockets { get; set; } = 64;

    /// <summary>How long a run waits for a free socket before it fails. Default 30 s.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>WebSocket handshake timeout. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Client ping interval; a peer that stops answering is detected as dead. Default 15 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest silence within a turn before the socket is treated as dead. Default 120 s.</summary>
    public TimeSpan ReceiveTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>A socket is retired before this age (the server closes at 60 min). Default 55 min.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(55);

    /// <summary>Retries of a rate-limited (429) or transient (5xx) turn before the task fails. Default 4.</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 4;

    /// <summary>First backoff of those retries, doubled each time with jitter (a server hint wins). Default 0.5 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between retries. Default 30 s.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After WebSocket connects keep failing, turns go over HTTP for this long before WebSocket is tried again. Default 30 s.</summary>
    public TimeSpan WebSocketRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Largest server message accepted, in bytes: a WebSocket message, an SSE event, an error body, a turn's output items
    /// in all. One over it is read no further and fails the task at once (<see cref="ModelFailureKind.MessageTooLarge"/>):
    /// the same turn would bring the same answer. Default 16 MiB.
    /// </summary>
    [Range(1024, 1024 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The reasoning effort and output cap a turn of a task on <paramref name="taskModel"/> sends.</summary>
    internal (string? ReasoningEffort, int? MaxOutputTokens) SettingsFor(string? taskModel)
    {
        if (taskModel is null || taskModel == Model)
        {
            return (ReasoningEffort, MaxOutputTokens);
        }
        return Models.TryGetValue(taskModel, out var settings)
            ? (settings.ReasoningEffort, settings.MaxOutputTokens ?? MaxOutputTokens)
            : (null, MaxOutputTokens);
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, settings) in Models)
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true))
            {
                foreach (var result in results)
                {
                    yield return new ValidationResult($"Llm:Models:{name}: {result.ErrorMessage}", [nameof(Models)]);
                }
            }
        }
    }

    internal string? ResolveApiKey() =>
        string.IsNullOrWhiteSpace(ApiKey) ? Environment.GetEnvironmentVariable("OPENAI_API_KEY") : ApiKey;

    /// <summary><c>https://host/v1</c> becomes <c>wss://host/v1/responses</c>.</summary>
    internal Uri ResponsesWebSocketUri()
    {
        var builder = new UriBuilder(ResponsesHttpUri())
        {
            Scheme = BaseUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        return builder.Uri;
    }

    internal Uri ResponsesHttpUri() => new(BaseUrl.AbsoluteUri.TrimEnd('/') + "/responses");
}
