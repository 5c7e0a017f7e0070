using AgentWorker.Testing;

namespace AgentWorker.Bench;

/// <summary>The simulated model's latencies for a scenario.</summary>
internal sealed record SimulatorProfile(int HandshakeMs, int TimeToFirstTokenMs, int TokensPerSecond, double PrefillMsPerKToken, int HttpOverheadMs)
{
    public static readonly SimulatorProfile ZeroLatency = new(0, 0, 0, 0, 0);

    public string Describe() => $"handshake {HandshakeMs} ms, time to first token {TimeToFirstTokenMs} ms, "
        + $"{(TokensPerSecond == 0 ? "unthrottled" : TokensPerSecond + " tokens/s")}, prefill {PrefillMsPerKToken} ms per 1k uncached input tokens, "
        + $"HTTP per-request overhead {HttpOverheadMs} ms";

    public Task<SimulatorHost> StartAsync() => SimulatorHost.StartAsync(
        $"--Simulator:HandshakeDelayMs={HandshakeMs}", $"--Simulator:TimeToFirstTokenMs={TimeToFirstTokenMs}",
        $"--Simulator:TokensPerSecond={TokensPerSecond}",
        $"--Simulator:PrefillMsPerKToken={PrefillMsPerKToken.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        $"--Simulator:HttpRequestOverheadMs={HttpOverheadMs}");
}
