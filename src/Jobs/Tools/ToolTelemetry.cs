using System.Diagnostics;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The names under which tool calls are traced and measured. Users' OpenTelemetry configuration names them: they never
/// change.
/// </summary>
internal static class ToolTelemetry
{
    /// <summary>The activity source of tool calls (<c>execute_tool {name}</c> spans).</summary>
    public const string SourceName = "AgentWorker.Tools";

    /// <summary>The meter of steps (<c>agent.step.duration</c>), shared with the model turns and the runs.</summary>
    public const string StepsMeterName = "AgentWorker.Runs";

    internal static readonly ActivitySource Source = new(SourceName);
}
