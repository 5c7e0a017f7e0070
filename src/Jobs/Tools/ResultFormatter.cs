using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;

namespace AgentWorker.Jobs.Tools;

/// <summary>Turns a reader into the compact JSON the model sees: column names once, then rows of values.</summary>
internal static class ResultFormatter
{
    public static async Task<ToolResult> ReadAsync(NpgsqlDataReader reader, ToolsOptions options, CancellationToken cancellationToken)
    {
        var columns = new JsonArray();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            columns.Add(reader.GetName(i));
        }
        var rows = new List<JsonArray>();
        var truncated = false;
        var chars = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (rows.Count == options.MaxRows)
            {
                truncated = true; // the cap + 1st row exists
                break;
            }
            var row = new JsonArray();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row.Add(ToJson(reader, i));
            }
            chars += row.ToJsonString().Length + 1;
            if (chars > options.MaxOutputChars)
            {
                truncated = true;
                break;
            }
            rows.Add(row);
        }
        var output = new JsonObject
        {
            ["columns"] = columns,
            ["rows"] = new JsonArray(rows.Select(r => (JsonNode)r).ToArray()),
            ["row_count"] = rows.Count,
            ["truncated"] = truncated,
        };
        if (truncated)
        {
            output["note"] = $"Only the first {rows.Count} rows are shown (limit {options.MaxRows} rows, {options.MaxOutputChars} characters). "
                + "Aggregate or filter to see the rest.";
        }
        return new ToolResult(output.ToJsonString(), IsError: false, RowCount: rows.Count, Truncated: truncated);
    }

    private static JsonValue? ToJson(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }
        object value;
        try
        {
            value = reader.GetValue(ordinal);
        }
        catch (InvalidCastException)
        {
            // Types without a CLR mapping (and values outside it, like 'infinity' dates) are shown as text.
            return JsonValue.Create(reader.GetDataTypeName(ordinal) + " value");
        }
        return value switch
        {
            bool b => JsonValue.Create(b),
            short or int or long or byte => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
            decimal d => JsonValue.Create(d),
            float or double => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            string s => JsonValue.Create(s),
            DateTime dt => JsonValue.Create(dt.ToString("O", CultureInfo.InvariantCulture)),
            DateTimeOffset dto => JsonValue.Create(dto.ToString("O", CultureInfo.InvariantCulture)),
            DateOnly date => JsonValue.Create(date.ToString("O", CultureInfo.InvariantCulture)),
            Guid g => JsonValue.Create(g.ToString()),
            byte[] bytes => JsonValue.Create($"<{bytes.Length} bytes>"),
            _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
        };
    }
}
