namespace AgentWorker.Jobs.Tasks;

/// <summary>The values of <c>agent.tasks.status</c>: used by the worker, the API, the pages and the bench alike.</summary>
public static class TaskStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Every status, in the order a task moves through them.</summary>
    public static readonly IReadOnlyList<string> All = [Queued, Running, Succeeded, Failed, Cancelled];

    /// <summary>Whether a task in this status is done (nothing will run it again unless it is requeued).</summary>
    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;
}
