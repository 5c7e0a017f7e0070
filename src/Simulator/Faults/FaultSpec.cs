namespace AgentWorker.Simulator.Faults;

/// <summary>
/// One fault to inject. Response faults hit the <see cref="Skip"/>+1-th <c>response.create</c> from now (on any
/// connection), <see cref="Count"/> times; handshake faults hit the next upgrades.
/// </summary>
/// <param name="Kind">
/// Response faults: <c>drop</c> (abort the TCP connection), <c>close</c> (close frame with <see cref="CloseCode"/>),
/// <c>malformed</c> (a frame that is not JSON), <c>binary</c> (a binary frame), <c>failed</c> (<c>response.failed</c>),
/// <c>invalid_utf8</c> (a text frame whose JSON holds a byte that is not UTF-8), <c>oversized</c> (one more event, an
/// <c>output_text.delta</c> of <see cref="Bytes"/> bytes, sent in pieces; the response then goes on; over HTTP too, as
/// one SSE event) — each after <see cref="AfterEvents"/> events; <c>rate_limit</c> (error 429 with a retry hint of
/// <see cref="RetryAfterMs"/>), <c>server_error</c> (error 500), <c>forget</c> (the connection loses its cached response,
/// so a chained request gets <c>previous_response_not_found</c>), <c>connection_limit</c>
/// (<c>websocket_connection_limit_reached</c>, then close), <c>slow</c> (<see cref="DelayMs"/> more before the first
/// output). Handshake faults: <c>handshake_reject</c> (HTTP
/// <see cref="Status"/>, default 503), <c>handshake_delay</c> (<see cref="DelayMs"/>). <c>restart</c> applies at once:
/// every connection is dropped and every cache lost.
/// </param>
/// <param name="AfterEvents">Events of the response sent before a stream fault strikes.</param>
/// <param name="Count">How many responses (or handshakes) the fault hits.</param>
/// <param name="Skip">Responses (or handshakes) to let through first.</param>
/// <param name="Status">HTTP status of a refused handshake.</param>
/// <param name="RetryAfterMs">The retry hint of <c>rate_limit</c>.</param>
/// <param name="CloseCode">The close code of <c>close</c>.</param>
/// <param name="DelayMs">The extra delay of <c>handshake_delay</c> and <c>slow</c>.</param>
/// <param name="Bytes">The size of the <c>oversized</c> event.</param>
public sealed record FaultSpec(
    string Kind,
    int AfterEvents = 0,
    int Count = 1,
    int Skip = 0,
    int Status = 0,
    int RetryAfterMs = 0,
    int CloseCode = 1011,
    int DelayMs = 0,
    int Bytes = 0)
{
    public static readonly string[] ResponseKinds =
        ["drop", "close", "malformed", "binary", "failed", "invalid_utf8", "oversized", "rate_limit", "server_error", "forget",
            "connection_limit", "slow"];

    /// <summary>The response faults HTTP/SSE responses take too; the others hit WebSocket responses only.</summary>
    public static readonly string[] HttpKinds = ["oversized"];

    public static readonly string[] HandshakeKinds = ["handshake_reject", "handshake_delay"];

    /// <summary>Parses <c>kind[:key=value,...]</c>, e.g. <c>drop:after_events=3,skip=1</c>.</summary>
    public static FaultSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':', 2, StringSplitOptions.TrimEntries);
        var spec = new FaultSpec(parts[0]);
        if (parts.Length == 2)
        {
            foreach (var pair in parts[1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = pair.Split('=', 2, StringSplitOptions.TrimEntries);
                var value = kv.Length == 2 && int.TryParse(kv[1], System.Globalization.CultureInfo.InvariantCulture, out var n)
                    ? n
                    : throw new FormatException($"Fault option '{pair}' in '{text}' is not key=integer.");
                spec = kv[0] switch
                {
                    "after_events" => spec with { AfterEvents = value },
                    "count" => spec with { Count = value },
                    "skip" => spec with { Skip = value },
                    "status" => spec with { Status = value },
                    "retry_after_ms" => spec with { RetryAfterMs = value },
                    "close_code" => spec with { CloseCode = value },
                    "delay_ms" => spec with { DelayMs = value },
                    "bytes" => spec with { Bytes = value },
                    _ => throw new FormatException($"Unknown fault option '{kv[0]}' in '{text}'."),
                };
            }
        }
        return spec.Validate();
    }

    public FaultSpec Validate()
    {
        if (Kind != "restart" && !ResponseKinds.Contains(Kind) && !HandshakeKinds.Contains(Kind))
        {
            throw new FormatException(
                $"Unknown fault '{Kind}'. Known: {string.Join(", ", ResponseKinds.Concat(HandshakeKinds).Append("restart"))}.");
        }
        if (Count < 1 || AfterEvents < 0 || Skip < 0)
        {
            throw new FormatException("Fault count must be at least 1; after_events and skip at least 0.");
        }
        if (Kind == "oversized" && Bytes < 64)
        {
            throw new FormatException("Fault oversized needs bytes (the event's size) of at least 64, e.g. oversized:bytes=20000000.");
        }
        return this;
    }
}
