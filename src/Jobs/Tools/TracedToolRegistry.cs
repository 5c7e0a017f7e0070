using System.Diagnostics;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Wraps the tool registry with a span per call (<c>execute_tool {name}</c> on <c>AgentWorker.Tools</c>; a database
/// tool's span names the database it reads) and the call's metrics (<see cref="ToolMetrics"/>): the loop itself holds
/// no telemetry.
/// </summary>
internal sealed class TracedToolRegistry(IToolRegistry inner, ToolMetrics metrics, TargetDatabase? target = null) : IToolRegistry
{
    private readonly string? _database = target?.DatabaseName;

    public ToolSelection Select(IReadOnlyList<string>? patterns) => inner.Select(patterns);

    public async Task<ToolResult> InvokeAsync(ToolSelection selection, ToolCall call, ToolCallContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(call);
        var started = Stopwatch.GetTimestamp();
        // A name the model made up is not a tag value: it would be a new time series per invention.
        var known = selection.TryGet(call.Name, out var tool) ? call.Name : "unknown";
        using var activity = ToolTelemetry.Source.StartActivity("execute_tool " + known, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", known);
            activity.SetTag("gen_ai.tool.type", "function");
            activity.SetTag("gen_ai.tool.call.id", call.CallId);
            activity.SetTag("agent.tool.source", tool?.Source);
            activity.SetTag("agent.tool.side_effects", tool is null ? null : SideEffectsTag(tool.SideEffects));
            if (tool?.Source == "database")
            {
                activity.SetTag("db.system.name", "postgresql");
                activity.SetTag("db.namespace", _database);
            }
        }
        var result = await inner.InvokeAsync(selection, call, context, cancellationToken);
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

    internal static string SideEffectsTag(ToolSideEffects effects) => effects switch
    {
        ToolSideEffects.ReadOnly => "read_only",
        ToolSideEffects.Idempotent => "idempotent",
        _ => "side_effects",
    };
}
