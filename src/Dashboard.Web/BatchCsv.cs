using System.Globalization;
using System.Text;
using AgentWorker.Jobs.Batches;

namespace AgentWorker.Dashboard;

/// <summary>
/// A batch's results as CSV (RFC 4180): a header row, one row per task, every text field quoted, quotes doubled, line
/// breaks kept inside the quotes, CRLF between rows, UTF-8 with a byte order mark so spreadsheet programs read it as
/// UTF-8. No cell a spreadsheet may see starts a formula (= + - @, a tab or a carriage return): read with a comma, a
/// semicolon or a tab as the separator, with or without honouring quotes, or split at every line break, because an
/// apostrophe goes before each such start (<see cref="Neutralise"/>). Results come from a model and must not execute
/// when the file is opened; the JSON results keep the text unchanged.
/// </summary>
internal static class BatchCsv
{
    public const string ContentType = "text/csv; charset=utf-8";

    private static readonly string[] s_header =
        ["batch", "task", "status", "prompt", "result", "error", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens", "duration_ms"];

    public static byte[] Write(IEnumerable<BatchResult> results)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', s_header).Append("\r\n");
        foreach (var r in results)
        {
            csv.Append(r.Batch.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(r.Task.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(Text(r.Status)).Append(',')
                .Append(Text(r.Prompt)).Append(',')
                .Append(Text(r.Result)).Append(',')
                .Append(Text(r.Error)).Append(',')
                .Append(r.InputTokens.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(r.CachedTokens.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(r.OutputTokens.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(r.ReasoningTokens.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(r.DurationMs?.ToString("0.#", CultureInfo.InvariantCulture) ?? "")
                .Append("\r\n");
        }
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(csv.ToString())];
    }

    private static string Text(string? value)
    {
        if (value is null)
        {
            return "";
        }
        return "\"" + Neutralise(value).Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// The value with an apostrophe before every place a spreadsheet could start a cell with a formula: the start, and
    /// after every character a reader may split cells or rows at (comma, semicolon, tab, CR, LF), wherever quotes are
    /// not honoured. A cell starts a formula with = + - @ (or their full-width forms), or a tab or CR before one; spaces
    /// and quotes in front do not stop a reader that trims them, so the apostrophe goes before those too. The cost: a
    /// line of a value that starts with "- " (a list) gets an apostrophe too.
    /// </summary>
    internal static string Neutralise(string value)
    {
        StringBuilder? text = null;
        var start = true;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (start && StartsFormula(value, i))
            {
                text ??= new StringBuilder(value, 0, i, value.Length + 8);
                text.Append('\'');
            }
            text?.Append(c);
            start = c is ',' or ';' or '\t' or '\r' or '\n';
        }
        return text?.ToString() ?? value;
    }

    /// <summary>Whether a cell that begins at <paramref name="at"/> would begin, past spaces and quotes, with a formula character.</summary>
    private static bool StartsFormula(string value, int at)
    {
        while (at < value.Length && (value[at] == '"' || (char.IsWhiteSpace(value[at]) && value[at] is not ('\t' or '\r' or '\n'))))
        {
            at++;
        }
        return at < value.Length && value[at] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\uFF1D' or '\uFF0B' or '\uFF0D' or '\uFF20';
    }
}
