using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Telemetry;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Llm;

public sealed class ModelTurnMetricsTests
{
    [Fact]
    public void StepDuration_ModelTurnsAndToolCalls_RecordIntoOneInstrument()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var turns = new ModelTurnMetrics(meters);
        var calls = new ToolMetrics(meters);
        var seen = new List<(Instrument Instrument, string? Kind)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "agent.step.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
            seen.Add((instrument, tags.ToArray().Single(t => t.Key == "agent.step.kind").Value as string)));
        listener.Start();

        turns.Turn("m", "openai", new TurnResult
        {
            ResponseId = "r", Output = [], Usage = default, TimeToFirstOutputMs = 1, TransportMs = 2, Chained = false, Attempts = 1,
        }, 0.5);
        calls.Call("query", failed: false, 0.1);

        Assert.Equal([StepKinds.Model, StepKinds.Tool], seen.Select(s => s.Kind));
        Assert.Single(seen.Select(s => s.Instrument).Distinct());
        Assert.Equal(AgentTelemetry.RunsMeterName, seen[0].Instrument.Meter.Name);
    }

    [Fact]
    public void Names_TheFeaturesUse_AreTheOnesTheWiringExports()
    {
        Assert.Contains(LlmTelemetry.SourceName, AgentTelemetry.SourceNames);
        Assert.Contains(ToolTelemetry.SourceName, AgentTelemetry.SourceNames);
        Assert.Contains(LlmTelemetry.MeterName, AgentTelemetry.MeterNames);
        Assert.Contains(LlmTelemetry.StepsMeterName, AgentTelemetry.MeterNames);
        Assert.Contains(ToolTelemetry.StepsMeterName, AgentTelemetry.MeterNames);
        Assert.Equal(StepKinds.Model, ModelTurnMetrics.StepKind);
    }
}
