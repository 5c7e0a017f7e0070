using System.Globalization;
using System.Text;
using AgentWorker.Jobs.Batches;

namespace AgentWorker.Dashboard;

/// <summary>
/// A batch's results as CSV (RFC 4180): a header row, one row per task, every text field quoted, quotes doubled, line
/// breaks kept inside the quotes, CRLF between rows, UTF-8 with a byte order mark so spreadsheet programs read it as
/// UTF-8. Text a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) gets a leading
/// apostrophe: results come from a model and must not execute when the file is opened.
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
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
