using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Tasks;

/// <summary>How queued tasks become Hangfire jobs. Section <c>Dispatcher</c>.</summary>
public sealed class DispatcherOptions
{
    public const string SectionName = "Dispatcher";

    /// <summary>Fallback poll when no NOTIFY arrives (a lost notification, a delayed <c>run_at</c>). Default 5 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most tasks handed to Hangfire per round trip. Default 100.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>How long a run's claim lives without a heartbeat before another worker may take the task. Default 60 s.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);
}
