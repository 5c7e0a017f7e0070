namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// The names of what the worker tells a tracing and metrics stack, for a host's <c>AddSource</c> / <c>AddMeter</c>.
/// The sources and instruments live with what they measure: the enqueue span in <c>Tasks/</c>, the run span and run
/// metrics in <c>Runs/</c>, model turns and the socket pool in <c>Llm/</c> (the model port's decorator), tool calls in
/// <c>Tools/</c> (the tool registry's decorator). They follow the OpenTelemetry GenAI semantic conventions where those
/// name a thing (<c>gen_ai.*</c>, <c>db.*</c>, <c>error.type</c>) and use <c>agent.*</c> for the rest; a test keeps the
/// features' names equal to these. Without a listener a span costs a null check.
/// </summary>
public static class AgentTelemetry
{
    public const string TasksSourceName = "AgentWorker.Tasks";
    public const string RunsSourceName = "AgentWorker.Runs";
    public const string LlmSourceName = "AgentWorker.Llm";
    public const string ToolsSourceName = "AgentWorker.Tools";

    /// <summary>Every activity source of the worker.</summary>
    public static readonly string[] SourceNames = [TasksSourceName, RunsSourceName, LlmSourceName, ToolsSourceName];

    /// <summary>The meter of runs and steps (tasks finished, queue wait, step durations).</summary>
    public const string RunsMeterName = "AgentWorker.Runs";

    /// <summary>The meter of model turns and of the socket pool.</summary>
    public const string LlmMeterName = "AgentWorker.Llm";

    /// <summary>Every meter of the worker.</summary>
    public static readonly string[] MeterNames = [RunsMeterName, LlmMeterName];
}
