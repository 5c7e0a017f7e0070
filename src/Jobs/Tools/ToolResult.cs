namespace AgentWorker.Jobs.Tools;

/// <summary>What a tool call returns to the model, and what its step records.</summary>
internal sealed record ToolResult(string Output, bool IsError, int? RowCount = null, bool Truncated = false)
{
    /// <summary>Longest error text the model gets and the step stores; a server error can quote megabytes of input.</summary>
    public const int MaxErrorChars = 2000;

    public static ToolResult Error(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new(message.Length <= MaxErrorChars
            ? message
            : message[..MaxErrorChars] + $"...(cut: the error was {message.Length} characters long)", IsError: true);
    }
}
