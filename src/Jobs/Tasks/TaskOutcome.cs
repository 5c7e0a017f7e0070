namespace AgentWorker.Jobs.Tasks;

/// <summary>How a run ended: stored on the task in one statement (its token usage is summed from the stored steps).</summary>
internal sealed record TaskOutcome(string Status, string? ResultText, string? ErrorCode, string? ErrorMessage, int Steps)
{
    /// <summary>The tools the run offered, stored on the task with the outcome (<c>agent.tasks.tools</c>); null: unchanged.</summary>
    public string[]? Tools { get; init; }

    public static TaskOutcome Succeeded(string resultText, int steps) => new(TaskStatuses.Succeeded, resultText, null, null, steps);

    public static TaskOutcome Failed(string code, string message, int steps) => new(TaskStatuses.Failed, null, code, message, steps);

    public static TaskOutcome Cancelled(string message) => new(TaskStatuses.Cancelled, null, ErrorCodes.Cancelled, message, 0);
}
