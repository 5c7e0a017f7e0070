using System.Diagnostics.Metrics;
namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The socket pool's statistics as <see cref="System.Diagnostics.Metrics"/> instruments (meter <c>AgentWorker.Llm</c>),
/// for dotnet-counters, OpenTelemetry or any metrics listener.
/// </summary>
internal sealed class SocketPoolMetrics : IDisposable
{
    public const string MeterName = LlmTelemetry.MeterName;
    private readonly Meter _meter;

    public SocketPoolMetrics(SocketPool pool, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _meter.CreateObservableUpDownCounter("agent.sockets.open", () => pool.Statistics.Total, "{socket}", "Sockets open or opening");
        _meter.CreateObservableUpDownCounter("agent.sockets.idle", () => pool.Statistics.Idle, "{socket}", "Sockets idle in the pool");
        _meter.CreateObservableUpDownCounter("agent.sockets.leased", () => pool.Statistics.Leased, "{socket}", "Sockets leased to runs");
        _meter.CreateObservableUpDownCounter("agent.sockets.waiters", () => pool.Statistics.Waiters, "{run}", "Runs waiting for a socket");
        _meter.CreateObservableCounter("agent.sockets.handshakes", () => pool.Statistics.Handshakes, "{handshake}");
        _meter.CreateObservableCounter("agent.sockets.reuses", () => pool.Statistics.Reuses, "{lease}");
        _meter.CreateObservableCounter("agent.sockets.recycles", () => pool.Statistics.Recycles, "{socket}");
        _meter.CreateObservableCounter("agent.sockets.failures", () => pool.Statistics.Failures
            .Select(f => new Measurement<long>(f.Value, new KeyValuePair<string, object?>("kind", f.Key.ToString()))), "{failure}");
    }

    public void Dispose() => _meter.Dispose();
}
