namespace AgentWorker.Simulator;

/// <summary>Knobs of the simulated model server. Section <c>Simulator</c> (command line: <c>--Simulator:ApiKey=...</c>).</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>Bearer key clients must send. Default <c>sim-key</c>.</summary>
    public string ApiKey { get; set; } = "sim-key";

    /// <summary>Delay before the WebSocket upgrade is accepted (a real TLS + upgrade costs tens of ms). Default 0.</summary>
    public int HandshakeDelayMs { get; set; }

    /// <summary>Delay before the first output item of a response. Default 0.</summary>
    public int TimeToFirstTokenMs { get; set; }

    /// <summary>
    /// Prefill cost of input the server has not cached, per 1000 tokens, added before the first output. A chained turn
    /// only pays for its new items; a full resend pays for the whole context. Default 0.
    /// </summary>
    public double PrefillMsPerKToken { get; set; }

    /// <summary>
    /// Per-request cost of <c>POST /v1/responses</c> that a warm socket does not pay (routing, auth, loading the
    /// request state), added before the first output. Default 0.
    /// </summary>
    public int HttpRequestOverheadMs { get; set; }

    /// <summary>Output speed; 0 means no delay between deltas. Default 0.</summary>
    public int TokensPerSecond { get; set; }

    /// <summary>Age after which a socket answers <c>websocket_connection_limit_reached</c> and closes. Default 60 min.</summary>
    public TimeSpan MaxConnectionAge { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// Play a reasoning model: each response starts with a reasoning item whose encrypted content comes only when the
    /// request includes <c>reasoning.encrypted_content</c>, and a <c>store:false</c> request that replays a reasoning
    /// item without it is refused with the real 404. Default false.
    /// </summary>
    public bool Reasoning { get; set; }

    /// <summary>
    /// Characters of each reasoning item's encrypted content (incompressible, as real ciphertext is). Real ones run to
    /// kilobytes; default 0: a short token.
    /// </summary>
    public int ReasoningBytes { get; set; }

    /// <summary>Faults to inject from the start, <c>;</c>-separated (see <c>FaultSpec</c>); more via <c>POST /sim/faults</c>.</summary>
    public string? Faults { get; set; }
}
