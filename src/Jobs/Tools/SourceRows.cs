namespace AgentWorker.Jobs.Tools;

/// <summary>A batch source query's result: its columns and rows (values as text, null for NULL), or why it failed.</summary>
internal sealed record SourceRows(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows, bool MoreRows, string? Error)
{
    public static SourceRows Failed(string error) => new([], [], false, error);
}
