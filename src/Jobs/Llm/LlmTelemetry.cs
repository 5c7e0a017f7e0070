using System.Diagnostics;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The names under which the model side is traced and measured. Users' OpenTelemetry configuration names them
/// (<c>AddSource("AgentWorker.Llm")</c>, <c>AddMeter("AgentWorker.Llm")</c>): they never change.
/// </summary>
internal static class LlmTelemetry
{
    /// <summary>The activity source of model turns (<c>chat {model}</c> spans).</summary>
    public const string SourceName = "AgentWorker.Llm";

    /// <summary>The meter of model turns (GenAI client metrics) and of the socket pool.</summary>
    public const string MeterName = "AgentWorker.Llm";

    /// <summary>The meter of steps (<c>agent.step.duration</c>), shared with the tool calls and the runs.</summary>
    public const string StepsMeterName = "AgentWorker.Runs";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>OpenTelemetry's <c>error.type</c> of a failed turn: a model failure by its kind, else the exception's full type name.</summary>
    public static string ErrorType(Exception exception) =>
        exception is ModelException model ? model.Kind.ToString() : exception.GetType().FullName ?? "exception";
}
