using System.Text;
using System.Text.RegularExpressions;

namespace AgentWorker.Jobs.Batches;

/// <summary>
/// A batch's prompt template: text with <c>{{column}}</c> placeholders, filled from one row of the source query per
/// task. A value is inserted once, as it is: a value holding <c>{{</c> is never read as a placeholder, and values only
/// ever land in the prompt (the user's message), never in the instructions. NULL fills in as nothing.
/// </summary>
internal sealed partial class PromptTemplate
{
    private readonly List<(string Text, string? Column)> _parts = [];

    private PromptTemplate()
    {
    }

    /// <summary>The columns the template names, in order of first use.</summary>
    public IReadOnlyList<string> Columns { get; private set; } = [];

    public static PromptTemplate Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var parsed = new PromptTemplate();
        var at = 0;
        foreach (Match match in Placeholder().Matches(template))
        {
            parsed._parts.Add((template[at..match.Index], null));
            parsed._parts.Add(("", match.Groups[1].Value));
            at = match.Index + match.Length;
        }
        parsed._parts.Add((template[at..], null));
        parsed.Columns = [.. parsed._parts.Where(p => p.Column is not null).Select(p => p.Column!).Distinct(StringComparer.Ordinal)];
        return parsed;
    }

    /// <summary>The first column the template names that <paramref name="columns"/> lacks, or null.</summary>
    public string? MissingColumn(IReadOnlyList<string> columns) => Columns.FirstOrDefault(c => !columns.Contains(c, StringComparer.Ordinal));

    /// <summary>The prompt for one row: <paramref name="value"/> gives a column's value (null for NULL).</summary>
    public string Render(Func<string, string?> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var prompt = new StringBuilder();
        foreach (var (text, column) in _parts)
        {
            prompt.Append(column is null ? text : value(column));
        }
        return prompt.ToString();
    }

    [GeneratedRegex(@"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")]
    private static partial Regex Placeholder();
}
