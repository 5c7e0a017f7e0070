namespace AgentWorker.Jobs.Tools;

/// <summary>
/// A batch source query's result: its columns and rows (values as text, null for NULL or a column not read), whether
/// more rows followed (<paramref name="MoreRows"/>) or reading stopped at the characters' cap (<paramref name="MoreChars"/>),
/// or why it failed.
/// </summary>
internal sealed record SourceRows(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows, bool MoreRows, string? Error, bool MoreChars = false)
{
    public static SourceRows Failed(string error) => new([], [], false, error);
}
