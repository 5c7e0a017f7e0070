using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The GenAI client metrics of model turns (operation duration, token usage) with the time to the first event, on meter
/// <c>AgentWorker.Llm</c>, and a turn's step duration (<c>agent.step.duration</c>, <c>agent.step.kind=model</c>) on
/// <c>AgentWorker.Runs</c>. Durations are in seconds, as OpenTelemetry's conventions ask. Recorded by
/// <see cref="TracedModelPort"/>.
/// </summary>
internal sealed class ModelTurnMetrics
{
    /// <summary><c>agent.steps.kind</c> of a model turn (<c>StepKinds.Model</c>; <c>Llm/</c> uses no other feature).</summary>
    internal const string StepKind = "model";

    // Seconds: model turns run from tens of milliseconds to minutes.
    internal static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly long[] s_tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

    private readonly Histogram<double> _stepDuration;
    private readonly Histogram<double> _operationDuration;
    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _timeToFirstEvent;

    public ModelTurnMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var llm = meters.Create(LlmTelemetry.MeterName);
        _stepDuration = StepDuration(meters);
        _operationDuration = llm.CreateHistogram("gen_ai.client.operation.duration", "s", "GenAI operation duration (a model turn)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _tokenUsage = llm.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens used per model turn (gen_ai.token.type input or output)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = s_tokenBuckets });
        _timeToFirstEvent = llm.CreateHistogram("agent.model.time_to_first_event", "s",
            "From sending a turn's request to its first output event (time to first token)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>
    /// <c>agent.step.duration</c> on meter <c>AgentWorker.Runs</c>. The factory hands out one meter per name and the meter
    /// one instrument per name, unit, description and advice, so model turns and tool calls record into the same one.
    /// </summary>
    internal static Histogram<double> StepDuration(IMeterFactory meters) =>
        meters.Create(LlmTelemetry.StepsMeterName).CreateHistogram("agent.step.duration", "s",
            "One step of a run: a model turn or a tool call (agent.step.kind, gen_ai.tool.name)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    /// <summary>A turn that completed: its duration, tokens and time to the first event.</summary>
    public void Turn(string model, string provider, TurnResult result, double seconds)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", "chat" }, { "gen_ai.provider.name", provider }, { "gen_ai.request.model", model },
        };
        if (result.ResponseModel is { } answered)
        {
            tags.Add("gen_ai.response.model", answered);
        }
        _stepDuration.Record(seconds, new KeyValuePair<string, object?>("agent.step.kind", StepKind));
        _operationDuration.Record(seconds, tags);
        var input = tags;
        input.Add("gen_ai.token.type", "input");
        _tokenUsage.Record(result.Usage.InputTokens, input);
        var output = tags;
        output.Add("gen_ai.token.type", "output");
        _tokenUsage.Record(result.Usage.OutputTokens, output);
        _timeToFirstEvent.Record(result.TimeToFirstOutputMs / 1000, new KeyValuePair<string, object?>("gen_ai.request.model", model));
    }

    /// <summary>A turn that failed (after the implementation's own recovery): its duration, with error.type.</summary>
    public void TurnFailed(string model, string provider, string errorType, double seconds) => _operationDuration.Record(seconds,
        new KeyValuePair<string, object?>("gen_ai.operation.name", "chat"),
        new KeyValuePair<string, object?>("gen_ai.provider.name", provider),
        new KeyValuePair<string, object?>("gen_ai.request.model", model),
        new KeyValuePair<string, object?>("error.type", errorType));
}
