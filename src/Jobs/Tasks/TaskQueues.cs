using Hangfire.Common;

namespace AgentWorker.Jobs.Tasks;

/// <summary>Hangfire queues by task priority; a server lists them in this order, so higher priority is fetched first.</summary>
public static class TaskQueues
{
    public const string High = "agent_high";
    public const string Normal = "agent_normal";
    public const string Low = "agent_low";

    public static readonly string[] All = [High, Normal, Low];

    public static string ForPriority(int priority) => priority > 0 ? High : priority < 0 ? Low : Normal;

    /// <summary>
    /// The Hangfire job of a task, bound to its queue: a retry or a reschedule re-enqueues the job on the job's own
    /// queue, and without one it would land in "default", which no agent server listens to.
    /// </summary>
    public static Job JobFor(long taskId, int priority) =>
        Job.FromExpression<RunAgentTaskJob>(job => job.RunAsync(taskId, null, CancellationToken.None), ForPriority(priority));
}
