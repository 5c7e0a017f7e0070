using System.Diagnostics;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Wraps the tool registry with a span per call (<c>execute_tool {name}</c> on <c>AgentWorker.Tools</c>, with the
/// database the tools read) and the call's metrics (<see cref="ToolMetrics"/>): the loop itself holds no telemetry.
/// </summary>
internal sealed class TracedToolRegistry(IToolRegistry inner, ToolMetrics metrics, TargetDatabase? target = null) : IToolRegistry
{
    private readonly string? _database = target?.DatabaseName;

    public IReadOnlyList<IAgentTool> Tools => inner.Tools;

    public bool Knows(string name) => inner.Knows(name);

    public async Task<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var started = Stopwatch.GetTimestamp();
        // A name the model made up is not a tag value: it would be a new time series per invention.
        var known = inner.Knows(call.Name) ? call.Name : "unknown";
        using var activity = ToolTelemetry.Source.StartActivity("execute_tool " + known, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", known);
            activity.SetTag("gen_ai.tool.type", "function");
            activity.SetTag("gen_ai.tool.call.id", call.CallId);
            activity.SetTag("db.system.name", "postgresql");
            activity.SetTag("db.namespace", _database);
        }
        var result = await inner.InvokeAsync(call, cancellationToken);
        metrics.Call(known, result.IsError, Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (activity is not null)
        {
            activity.SetTag("db.response.returned_rows", result.RowCount);
            activity.SetTag("agent.tool.truncated", result.Truncated);
            if (result.IsError)
            {
                activity.SetTag("error.type", "tool_error");
                activity.SetStatus(ActivityStatusCode.Error,
                    result.Output.Length <= 500 ? result.Output : StorableText.Cut(result.Output, 500) + "...");
            }
        }
        return result;
    }
}
