using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Llm;

/// <summary>The model endpoint and the socket pool. Section <c>Llm</c> (environment: <c>Llm__BaseUrl</c> ...).</summary>
public sealed class LlmOptions
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

    /// <summary>Largest single server message accepted, in bytes. Default 16 MiB.</summary>
    [Range(1024, 1024 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 16 * 1024 * 1024;

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
