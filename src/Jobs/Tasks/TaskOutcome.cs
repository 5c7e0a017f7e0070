using AgentWorker.Jobs.Llm;

namespace AgentWorker.Jobs.Tasks;

/// <summary>How a run ended: stored on the task in one statement.</summary>
public sealed record TaskOutcome(string Status, string? ResultText, string? ErrorCode, string? ErrorMessage, TokenUsage Usage, int Steps)
{
    public static TaskOutcome Succeeded(string resultText, TokenUsage usage, int steps) => new("succeeded", resultText, null, null, usage, steps);

    public static TaskOutcome Failed(string code, string message, TokenUsage usage, int steps) => new("failed", null, code, message, usage, steps);

    public static TaskOutcome Cancelled(string message) => new("cancelled", null, "cancelled", message, default, 0);
}
