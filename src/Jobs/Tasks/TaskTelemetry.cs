using System.Diagnostics;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The span of an enqueue (activity source <c>AgentWorker.Tasks</c>): its context is stored with the tasks it makes, so a
/// task's run links to it. And the one way a span of the worker is marked failed.
/// </summary>
internal static class TaskTelemetry
{
    public const string SourceName = "AgentWorker.Tasks";

    private static readonly ActivitySource s_source = new(SourceName);

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
        var activity = s_source.StartActivity("agent.enqueue", ActivityKind.Producer);
        activity?.SetTag("gen_ai.request.model", model);
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
}
