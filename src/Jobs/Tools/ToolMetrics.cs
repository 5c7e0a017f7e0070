using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// A tool call's step duration: <c>agent.step.duration</c> (<c>agent.step.kind=tool</c>, <c>gen_ai.tool.name</c>,
/// <c>error.type</c> on failures) on meter <c>AgentWorker.Runs</c>, in seconds. The model turns record into the same
/// instrument: a meter hands out one instrument per name, type, unit and description, so those stay exactly as here.
/// </summary>
internal sealed class ToolMetrics
{
    private static readonly double[] s_durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly Histogram<double> _stepDuration;

    public ToolMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _stepDuration = meters.Create(ToolTelemetry.StepsMeterName).CreateHistogram("agent.step.duration", "s",
            "One step of a run: a model turn or a tool call (agent.step.kind, gen_ai.tool.name)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
    }

    /// <summary>A call of <paramref name="tool"/> (a known tool's name, or <c>unknown</c>).</summary>
    public void Call(string tool, bool failed, double seconds)
    {
        var tags = new TagList { { "agent.step.kind", StepKinds.Tool }, { "gen_ai.tool.name", tool } };
        if (failed)
        {
            tags.Add("error.type", "tool_error");
        }
        _stepDuration.Record(seconds, tags);
    }
}
