using System.Diagnostics;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// The span of one run of a task (activity source <c>AgentWorker.Runs</c>, <c>invoke_agent</c>), following the
/// OpenTelemetry GenAI conventions; the model turns and tool calls of the run are its children.
/// </summary>
internal static class RunTelemetry
{
    public const string SourceName = "AgentWorker.Runs";

    /// <summary>The GenAI provider of every model the worker talks to: OpenAI's Responses API or one compatible with it.</summary>
    private const string Provider = "openai";

    private static readonly ActivitySource s_source = new(SourceName);

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
        var activity = s_source.StartActivity(ActivityKind.Internal, default(ActivityContext), links: links, name: "invoke_agent agent-task");
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
            TaskTelemetry.Failed(activity, outcome.ErrorCode ?? outcome.Status, outcome.ErrorMessage);
        }
    }

    /// <summary>The failure of an exception: its type as <c>error.type</c> (a model failure by its kind, else the exception's full type name).</summary>
    internal static void Failed(Activity? activity, Exception exception) => TaskTelemetry.Failed(activity,
        exception is ModelException model ? model.Kind.ToString() : exception.GetType().FullName ?? "exception", exception.Message);
}
