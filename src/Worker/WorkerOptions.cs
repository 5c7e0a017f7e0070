using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Worker;

/// <summary>The worker process. Section <c>Worker</c>.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Hangfire worker threads: runs in flight at once in this process. Default 20.</summary>
    [Range(1, 1000)]
    public int Concurrency { get; set; } = 20;
}
