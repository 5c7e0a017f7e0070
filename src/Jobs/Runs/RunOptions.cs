using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Runs;

/// <summary>The run executor of a worker process. Section <c>Worker</c>.</summary>
public sealed class RunOptions : IValidatableObject
{
    public const string SectionName = "Worker";

    /// <summary>Agent runs in flight at once in this process: async tasks, not threads. Default 256.</summary>
    [Range(1, 100_000)]
    public int MaxRuns { get; set; } = 256;

    /// <summary>
    /// How long a run's claim lives without a heartbeat before another process may take the task over (resuming
    /// after its last stored step). The process renews every claim it holds in one statement each third of this.
    /// Default 60 s.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Fallback poll when no NOTIFY arrives (a lost notification, a taken-over task). Default 5 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Hangfire worker threads of this process: they run control jobs only (a Requeue from the dashboard,
    /// recurring schedules, maintenance), never agent runs. Default 2.
    /// </summary>
    [Range(1, 50)]
    public int ControlWorkers { get; set; } = 2;

    /// <summary>Retries of a run that failed transiently (each resumes from the last stored step). Default 5.</summary>
    [Range(0, 100)]
    public int MaxRetries { get; set; } = 5;

    /// <summary>
    /// Runs a process takes on at once: <see cref="MaxRuns"/>, but over WebSocket no more than the pool has sockets,
    /// since a run holds its socket for its whole life. A task this process could not give a socket to is better left
    /// to another process than claimed to wait.
    /// </summary>
    internal int Slots(Llm.LlmOptions llm) =>
        llm.Transport == Llm.ModelTransport.WebSocket ? Math.Min(MaxRuns, llm.MaxSockets) : MaxRuns;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseDuration < TimeSpan.FromSeconds(1) || LeaseDuration > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult(
                $"Worker:LeaseDuration must be between 00:00:01 and 01:00:00, got {LeaseDuration}.", [nameof(LeaseDuration)]);
        }
        if (PollInterval < TimeSpan.FromMilliseconds(50) || PollInterval > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult(
                $"Worker:PollInterval must be between 00:00:00.05 and 00:10:00, got {PollInterval}.", [nameof(PollInterval)]);
        }
    }
}
