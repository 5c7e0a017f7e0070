using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// How one run ended: decided once (by <see cref="TaskRunner"/>, or by the claim for a snooze) and written once (by
/// <see cref="RunCompleter"/>, in one statement guarded by the run's claim). Closed: every case is nested here.
/// </summary>
internal abstract record RunResult
{
    private RunResult()
    {
    }

    /// <summary>The end as the run's span (<c>agent.run.end</c>) and the log name it.</summary>
    public abstract string Name { get; }

    /// <summary>The loop finished: the task succeeded, or failed for a reason of its own (max steps, tool errors).</summary>
    public sealed record Completed(TaskOutcome Outcome) : RunResult
    {
        public override string Name => "Completed";
    }

    /// <summary>The run failed for good: a permanent error, or a transient one with no retry left.</summary>
    public sealed record Failed(TaskOutcome Outcome) : RunResult
    {
        public override string Name => "Failed";
    }

    /// <summary>Someone cancelled the task (SQL, REST, or deleting its Hangfire job); the stored message says who.</summary>
    public sealed record Cancelled : RunResult
    {
        public TaskOutcome Outcome { get; } = TaskOutcome.Cancelled("cancelled while running");

        public override string Name => "Cancelled";
    }

    /// <summary>The task passed its deadline while the run was on it.</summary>
    public sealed record Deadline(TaskOutcome Outcome) : RunResult
    {
        public override string Name => "Deadline";
    }

    /// <summary>A transient failure: back to the queue after <paramref name="Delay"/>, one retry used.</summary>
    public sealed record RetryLater(Exception Failure, TimeSpan Delay) : RunResult
    {
        public override string Name => "Retry";
    }

    /// <summary>The task's model is at its shared cap: back to the queue for <paramref name="Wait"/>, no attempt used.</summary>
    public sealed record Snoozed(TimeSpan Wait, string Model) : RunResult
    {
        public override string Name => "Snoozed";
    }

    /// <summary>The process is stopping: back to the queue, due now, steps kept, for another process.</summary>
    public sealed record HandedBack : RunResult
    {
        public override string Name => "Shutdown";
    }

    /// <summary>The claim expired and another run took the task over: nothing more is written.</summary>
    public sealed record ClaimLost : RunResult
    {
        public override string Name => "LeaseLost";
    }
}
