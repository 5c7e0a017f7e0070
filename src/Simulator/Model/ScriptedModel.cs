using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentWorker.Simulator.Model;

/// <summary>
/// A deterministic "model" that explores a database the way an agent would: list the tables, describe the one the
/// prompt names, query it, then answer with what it found. Without the database tools it echoes the prompt.
/// A prompt may carry the SQL to run between backticks: "Run `select count(*) from shop.orders`".
/// </summary>
public static partial class ScriptedModel
{
    public static ModelReply Reply(IReadOnlyList<JsonObject> context, IReadOnlySet<string> tools)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tools);
        var prompt = LastUserText(context);
        var outputs = context.Where(i => (string?)i["type"] == "function_call_output")
            .ToDictionary(i => (string?)i["call_id"] ?? "", i => OutputText(i["output"]), StringComparer.Ordinal);
        var calls = context.Where(i => (string?)i["type"] == "function_call")
            .Select(i => (Name: (string?)i["name"] ?? "", Arguments: (string?)i["arguments"] ?? "{}",
                Output: outputs.GetValueOrDefault((string?)i["call_id"] ?? "")))
            .ToList();

        if (ToolCall().IsMatch(prompt))
        {
            // "[call:NAME]ARGUMENTS[/call]" (any number): each call in order, one per turn, of any tool offered, then
            // an answer quoting every output ("NAME: output" | ...). For tests of the tools users add.
            var script = ToolCall().Matches(prompt).Select(m => (Name: m.Groups[1].Value, Arguments: m.Groups[2].Value)).ToList();
            return calls.Count < script.Count
                ? ModelReply.Call(script[calls.Count].Name, script[calls.Count].Arguments)
                : ModelReply.Answer(string.Join(" | ", calls.Select(c => c.Name + ": " + (c.Output ?? "nothing"))));
        }
        if (!tools.Contains("query"))
        {
            return ModelReply.Answer("You said: " + prompt);
        }
        if (RawCall().Match(prompt) is { Success: true } raw)
        {
            // "[raw_call:NAME]ARGUMENTS[/raw_call]": one call exactly as written, however malformed, then an answer
            // quoting what the tool said. For tests of what a model can get wrong.
            return calls.Count == 0
                ? new ModelReply([new FunctionCall(raw.Groups[1].Value, raw.Groups[2].Value)], null)
                : ModelReply.Answer("The tool said: " + (calls[^1].Output ?? "nothing"));
        }
        if (WireCall().Match(prompt) is { Success: true } wire)
        {
            // "[wire_call:NAME]ARGUMENTS[/wire_call]": as raw_call, but the \uXXXX in NAME and ARGUMENTS are escapes of the
            // event's own JSON (half a surrogate pair is sent as such), not of the arguments' inner JSON.
            return calls.Count == 0
                ? new ModelReply([new FunctionCall(DecodeEscapes(wire.Groups[1].Value), DecodeEscapes(wire.Groups[2].Value))], null)
                : ModelReply.Answer("The tool said: " + (calls[^1].Output ?? "nothing"));
        }
        if (WireAnswer().Match(prompt) is { Success: true } answer)
        {
            // "[wire_answer]TEXT[/wire_answer]": answers TEXT at once, its \uXXXX escapes of the event's JSON as above.
            return ModelReply.Answer(DecodeEscapes(answer.Groups[1].Value));
        }
        if (Turns().Match(prompt) is { Success: true } turns)
        {
            // "[turns:N]": N model turns, each but the last calling query once. For benchmarks.
            // "[rows:R]": each query reads R rows of orders with their customers (kilobytes of output, like real ones).
            // "[answer_chars:C]": the answer is C characters of prose.
            var wanted = int.Parse(turns.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var done = calls.Count(c => c.Name == "query");
            var rows = Rows().Match(prompt) is { Success: true } r ? int.Parse(r.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            var turnSql = rows > 0
                ? $"select o.*, c.name, c.email, c.country from shop.orders o join shop.customers c on c.id = o.customer_id order by o.id limit {rows} offset {done * rows}"
                : $"select {done + 1} as step";
            return done + 1 >= wanted
                ? ModelReply.Answer(AnswerChars().Match(prompt) is { Success: true } a
                    ? Prose(int.Parse(a.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), done)
                    : $"Done after {done} queries.")
                : ModelReply.Call("query", new JsonObject { ["sql"] = turnSql }.ToJsonString());
        }
        var explicitSql = ExplicitSql().Matches(prompt).Select(m => m.Groups[1].Value).ToList();
        if (explicitSql.Count > 0)
        {
            return FollowScript(explicitSql, calls);
        }

        if (tools.Contains("list_tables") && !calls.Any(c => c.Name == "list_tables"))
        {
            return ModelReply.Call("list_tables", "{}");
        }
        var table = PickTable(prompt, calls.LastOrDefault(c => c.Name == "list_tables").Output);
        if (table is not null && tools.Contains("describe_table") && !calls.Any(c => c.Name == "describe_table"))
        {
            return ModelReply.Call("describe_table", new JsonObject { ["table"] = table }.ToJsonString());
        }
        var sql = table is null ? "select 1 as one" : $"select count(*) as count from {table}";
        var query = calls.LastOrDefault(c => c.Name == "query");
        if (query.Name is null)
        {
            return ModelReply.Call("query", new JsonObject { ["sql"] = sql }.ToJsonString());
        }
        return ModelReply.Answer(Answer(query.Output, table, sql));
    }

    /// <summary>
    /// The prompt named its SQL: run every statement not run yet, all in one turn (parallel calls). Like a model
    /// that falls for prompt injection, it also runs any "Run `...`" it reads in a tool output. Then answer.
    /// </summary>
    private static ModelReply FollowScript(List<string> explicitSql, List<(string Name, string Arguments, string? Output)> calls)
    {
        var ran = calls.Where(c => c.Name == "query").Select(c => SqlOf(c.Arguments)).ToHashSet(StringComparer.Ordinal);
        var injected = calls.Where(c => c.Output is not null)
            .SelectMany(c => InjectedSql().Matches(c.Output!).Select(m => m.Groups[1].Value));
        var pending = explicitSql.Concat(injected).Where(sql => !ran.Contains(sql)).Distinct(StringComparer.Ordinal).ToList();
        if (pending.Count > 0)
        {
            return new ModelReply(pending.Select(sql => new FunctionCall("query", new JsonObject { ["sql"] = sql }.ToJsonString())).ToList(), null);
        }
        return ModelReply.Answer(string.Join(" | ", calls.Where(c => c.Name == "query")
            .Select(c => Answer(c.Output, table: null, SqlOf(c.Arguments)))));
    }

    /// <summary>
    /// Text with its <c>\uXXXX</c> sequences decoded as a JSON reader would, half surrogate pairs included; everything
    /// else as written. How a prompt spells what the model is to send.
    /// </summary>
    private static string DecodeEscapes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var decoded = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 5 < text.Length && text[i + 1] == 'u'
                && ushort.TryParse(text.AsSpan(i + 2, 4), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var code))
            {
                decoded.Append((char)code);
                i += 5;
                continue;
            }
            decoded.Append(text[i]);
        }
        return decoded.ToString();
    }

    private static string SqlOf(string arguments)
    {
        try
        {
            return (string?)JsonNode.Parse(arguments)?["sql"] ?? "";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    private static string Answer(string? output, string? table, string sql)
    {
        if (output is null || output.StartsWith("ERROR", StringComparison.Ordinal))
        {
            return $"The query `{sql}` failed: {output}";
        }
        try
        {
            var rows = JsonNode.Parse(output)?["rows"] as JsonArray;
            if (table is not null && rows is [JsonArray and [var count]])
            {
                return $"There are {count} rows in {table}.";
            }
            return $"The query `{sql}` returned {rows?.Count ?? 0} rows: {rows?.ToJsonString()}";
        }
        catch (JsonException)
        {
            return $"The query `{sql}` returned: {output}";
        }
    }

    /// <summary>The listed table whose name the prompt mentions (longest match first), else the first listed.</summary>
    private static string? PickTable(string prompt, string? listOutput)
    {
        if (listOutput is null)
        {
            return null;
        }
        JsonArray? rows;
        try
        {
            rows = JsonNode.Parse(listOutput)?["rows"] as JsonArray;
        }
        catch (JsonException)
        {
            return null;
        }
        var tables = (rows ?? []).OfType<JsonArray>()
            .Select(r => (Schema: (string?)r[0] ?? "", Name: (string?)r[1] ?? ""))
            .ToList();
        if (tables.Count == 0)
        {
            return null;
        }
        var mentioned = tables
            .Where(t => prompt.Contains(t.Name, StringComparison.OrdinalIgnoreCase)
                || (t.Name.EndsWith('s') && prompt.Contains(t.Name[..^1], StringComparison.OrdinalIgnoreCase)))
            .OrderByDescending(t => t.Name.Length)
            .FirstOrDefault();
        var chosen = mentioned.Name is null ? tables[0] : mentioned;
        return chosen.Schema + "." + chosen.Name;
    }

    private static string LastUserText(IReadOnlyList<JsonObject> context)
    {
        var message = context.LastOrDefault(i => (string?)i["role"] == "user");
        return message?["content"] switch
        {
            JsonValue v => (string?)v ?? "",
            JsonArray parts => string.Join(" ", parts.Select(p => (string?)p?["text"]).Where(t => t is not null)),
            _ => "",
        };
    }

    private static string OutputText(JsonNode? output) => output switch
    {
        JsonValue v => (string?)v ?? "",
        JsonArray parts => string.Join(" ", parts.Select(p => (string?)p?["text"]).Where(t => t is not null)),
        _ => "",
    };

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex ExplicitSql();

    [GeneratedRegex(@"\[call:([A-Za-z0-9_-]{1,64})\](.*?)\[/call\]", RegexOptions.Singleline)]
    private static partial Regex ToolCall();

    [GeneratedRegex(@"\[raw_call:([^\]]*)\](.*?)\[/raw_call\]", RegexOptions.Singleline)]
    private static partial Regex RawCall();

    [GeneratedRegex(@"\[wire_call:([^\]]*)\](.*?)\[/wire_call\]", RegexOptions.Singleline)]
    private static partial Regex WireCall();

    [GeneratedRegex(@"\[wire_answer\](.*?)\[/wire_answer\]", RegexOptions.Singleline)]
    private static partial Regex WireAnswer();

    /// <summary>An answer of <paramref name="chars"/> characters of plain prose, as a model writes one.</summary>
    private static string Prose(int chars, int queries)
    {
        string[] words = ["the", "orders", "shipped", "customers", "in", "country", "were", "delivered", "late", "on", "average",
            "compared", "with", "last", "month", "and", "returns", "rose", "slightly", "while", "revenue", "grew", "steadily"];
        var text = new System.Text.StringBuilder($"After {queries} queries: ");
        for (var i = 0; text.Length < chars; i++)
        {
            text.Append(words[(i * 7 + i / 5) % words.Length]).Append(i % 13 == 12 ? ". " : " ");
        }
        return text.ToString(0, Math.Min(chars, text.Length));
    }

    [GeneratedRegex(@"\[rows:(\d{1,4})\]")]
    private static partial Regex Rows();

    [GeneratedRegex(@"\[answer_chars:(\d{1,6})\]")]
    private static partial Regex AnswerChars();

    [GeneratedRegex(@"\[turns:(\d{1,3})\]")]
    private static partial Regex Turns();

    [GeneratedRegex("[Rr]un `([^`]+)`")]
    private static partial Regex InjectedSql();
}
