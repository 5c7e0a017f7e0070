using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Llm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Llm;

public sealed class SocketPoolMetricsTests
{
    [Fact]
    public async Task Instruments_ReportThePoolsStatistics()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await using var pool = new SocketPool(Options.Create(new LlmOptions { Model = "m", MaxSockets = 2 }),
            new FakeConnector(TimeProvider.System), TimeProvider.System, NullLogger<SocketPool>.Instance);
        using var metrics = new SocketPoolMetrics(pool, services.GetRequiredService<IMeterFactory>());
        await using var lease = await pool.LeaseAsync(TestContext.Current.CancellationToken);
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == SocketPoolMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Equal(1, seen["agent.sockets.open"]);
        Assert.Equal(1, seen["agent.sockets.leased"]);
        Assert.Equal(0, seen["agent.sockets.idle"]);
        Assert.Equal(1, seen["agent.sockets.handshakes"]);
    }
}
