using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// The worker's instruments on <see cref="System.Diagnostics.Metrics"/>: step durations, and the GenAI client metrics (operation duration, token usage) with the time to the
/// first event of a turn (tasks by outcome and the queue wait are the runs', <c>Runs/RunMetrics</c>). Meter
/// <c>AgentWorker.Runs</c>, and <c>AgentWorker.Llm</c> for the model side (beside the
/// socket pool's gauges, <see cref="SocketPoolMetrics"/>). Durations are in seconds, as OpenTelemetry's conventions ask.
/// </summary>
internal sealed class AgentMetrics
{
    public const string RunsMeterName = "AgentWorker.Runs";

    // Seconds: model turns run from tens of milliseconds to minutes.
    private static readonly double[] s_durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly long[] s_tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

    private readonly Histogram<double> _stepDuration;
    private readonly Histogram<double> _operationDuration;
    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _timeToFirstEvent;

    public AgentMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var runs = meters.Create(RunsMeterName);
        var llm = meters.Create(SocketPoolMetrics.MeterName);
        _stepDuration = runs.CreateHistogram("agent.step.duration", "s",
            "One step of a run: a model turn or a tool call (agent.step.kind, gen_ai.tool.name)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _operationDuration = llm.CreateHistogram("gen_ai.client.operation.duration", "s", "GenAI operation duration (a model turn)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _tokenUsage = llm.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens used per model turn (gen_ai.token.type input or output)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = s_tokenBuckets });
        _timeToFirstEvent = llm.CreateHistogram("agent.model.time_to_first_event", "s",
            "From sending a turn's request to its first output event (time to first token)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
    }

    /// <summary>A model turn that completed: its duration, tokens and time to the first event.</summary>
    public void ModelTurn(string model, TurnRecord record, double seconds)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", "chat" }, { "gen_ai.provider.name", AgentTelemetry.Provider }, { "gen_ai.request.model", model },
        };
        if (record.Turn.ResponseModel is { } answered)
        {
            tags.Add("gen_ai.response.model", answered);
        }
        _stepDuration.Record(seconds, new KeyValuePair<string, object?>("agent.step.kind", StepKinds.Model));
        _operationDuration.Record(seconds, tags);
        var input = tags;
        input.Add("gen_ai.token.type", "input");
        _tokenUsage.Record(record.Turn.Usage.InputTokens, input);
        var output = tags;
        output.Add("gen_ai.token.type", "output");
        _tokenUsage.Record(record.Turn.Usage.OutputTokens, output);
        _timeToFirstEvent.Record(record.Turn.TimeToFirstOutputMs / 1000, new KeyValuePair<string, object?>("gen_ai.request.model", model));
    }

    /// <summary>A model turn that failed (after the session's own recovery): its duration, with error.type.</summary>
    public void ModelTurnFailed(string model, string errorType, double seconds) => _operationDuration.Record(seconds,
        new KeyValuePair<string, object?>("gen_ai.operation.name", "chat"),
        new KeyValuePair<string, object?>("gen_ai.provider.name", AgentTelemetry.Provider),
        new KeyValuePair<string, object?>("gen_ai.request.model", model),
        new KeyValuePair<string, object?>("error.type", errorType));

    public void ToolCall(string tool, bool failed, double seconds)
    {
        var tags = new TagList { { "agent.step.kind", StepKinds.Tool }, { "gen_ai.tool.name", tool } };
        if (failed)
        {
            tags.Add("error.type", "tool_error");
        }
        _stepDuration.Record(seconds, tags);
    }
}
