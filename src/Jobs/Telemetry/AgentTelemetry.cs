using System.Diagnostics;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// What the worker tells a tracing and metrics stack, following the OpenTelemetry GenAI semantic conventions where they
/// name a thing (<c>gen_ai.*</c>, <c>db.*</c>, <c>error.type</c>) and <c>agent.*</c> for the rest. Traces: a span per
/// enqueue (<see cref="Tasks"/>), per task run (<see cref="Runs"/>), per model turn (source <c>AgentWorker.Llm</c>, from
/// the model port's decorator in <c>Llm/</c>) and per tool call (source <c>AgentWorker.Tools</c>, from the tool registry's
/// decorator in <c>Tools/</c>); a run links to the enqueue that made its task. Metrics: <see cref="AgentMetrics"/>, and
/// those of the model turns, tool calls and socket pool beside what they measure.
/// Without a listener (no OTLP endpoint, no dotnet-trace) a span costs a null check.
/// </summary>
public static class AgentTelemetry
{
    public const string TasksSourceName = "AgentWorker.Tasks";
    public const string RunsSourceName = "AgentWorker.Runs";
    public const string LlmSourceName = "AgentWorker.Llm";
    public const string ToolsSourceName = "AgentWorker.Tools";

    /// <summary>Every activity source and meter of the worker, for <c>AddSource</c> / <c>AddMeter</c>.</summary>
    public static readonly string[] SourceNames = [TasksSourceName, RunsSourceName, LlmSourceName, ToolsSourceName];

    /// <summary>The meter of model turns and of the socket pool (instruments in <c>Llm/</c>).</summary>
    public const string LlmMeterName = "AgentWorker.Llm";

    public static readonly string[] MeterNames = [AgentMetrics.RunsMeterName, LlmMeterName];

    internal static readonly ActivitySource Tasks = new(TasksSourceName);
    internal static readonly ActivitySource Runs = new(RunsSourceName);

    /// <summary>The GenAI provider of every model the worker talks to: OpenAI's Responses API or one compatible with it.</summary>
    internal const string Provider = "openai";

    /// <summary>
    /// An enqueue's <c>select agent.enqueue…(…)</c> made to store the enqueue span's context with the tasks it inserts
    /// (<c>agent.tasks.trace_parent</c>'s default reads <c>agent.traceparent</c>): the statement sets it for its own
    /// transaction from <c>@TraceParent</c>. Unchanged when nothing traces the enqueue.
    /// </summary>
    internal static string Traced(string enqueueSql, Activity? enqueue) =>
        enqueue is null ? enqueueSql : enqueueSql + " from (select set_config('agent.traceparent', @TraceParent, true)) as traced";

    /// <summary>The span of one enqueue (<c>agent.enqueue</c>, a producer): its context is stored with the task.</summary>
    internal static Activity? StartEnqueue(string? model)
    {
        var activity = Tasks.StartActivity("agent.enqueue", ActivityKind.Producer);
        activity?.SetTag("gen_ai.request.model", model);
        return activity;
    }

    /// <summary>
    /// The span of one run of a task (<c>invoke_agent</c>): a new trace, linked to the enqueue's span when the task
    /// carries one (<paramref name="traceParent"/>, W3C), since a run starts later and may be one of several.
    /// </summary>
    internal static Activity? StartRun(long taskId, int attempt, string? model, string? traceParent)
    {
        ActivityLink[]? links = traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var enqueued)
            ? [new ActivityLink(enqueued)]
            : null;
        // A root of its own: whatever is current in the caller's flow is not this run's cause. Called from the run's
        // own async flow, so the caller's current activity comes back when the run's method returns.
        Activity.Current = null;
        var activity = Runs.StartActivity(ActivityKind.Internal, default(ActivityContext), links: links, name: "invoke_agent agent-task");
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "invoke_agent");
            activity.SetTag("gen_ai.provider.name", Provider);
            activity.SetTag("gen_ai.request.model", model);
            activity.SetTag("agent.task.id", taskId);
            activity.SetTag("agent.task.attempt", attempt);
        }
        return activity;
    }

    /// <summary>Marks a span failed with a short error type (OpenTelemetry's <c>error.type</c>) and a description.</summary>
    internal static void Failed(Activity? activity, string errorType, string? description)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("error.type", errorType);
        activity.SetStatus(ActivityStatusCode.Error, description);
    }

    /// <summary>The failure of an exception: its type as <c>error.type</c> (a model failure by its kind).</summary>
    internal static void Failed(Activity? activity, Exception exception) => Failed(activity, ErrorType(exception), exception.Message);

    /// <summary>OpenTelemetry's <c>error.type</c> of an exception: a model failure by its kind, else the exception's full type name.</summary>
    internal static string ErrorType(Exception exception) =>
        exception is ModelException model ? model.Kind.ToString() : exception.GetType().FullName ?? "exception";

    /// <summary>How a run ended, on its span.</summary>
    internal static void RunDone(Activity? activity, TaskOutcome outcome)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("agent.task.status", outcome.Status);
        activity.SetTag("agent.task.steps", outcome.Steps);
        if (outcome.Status != TaskStatuses.Succeeded)
        {
            Failed(activity, outcome.ErrorCode ?? outcome.Status, outcome.ErrorMessage);
        }
    }
}
