namespace AgentWorker.Jobs.Tools;

/// <summary>What a tool call returns to the model, and what its step records.</summary>
internal sealed record ToolResult(string Output, bool IsError, int? RowCount = null, bool Truncated = false)
{
    public static ToolResult Error(string message) => new(message, IsError: true);
}
