using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Checks one call's arguments against the tool's whole schema before the tool runs. Flat, closed schemas (the database
/// tools') take the fast path of <see cref="ToolArguments"/>; any other is evaluated by JsonSchema.Net (compiled once per
/// tool). Either way a string holding a NUL or half a surrogate pair is refused: PostgreSQL text cannot store it.
/// </summary>
internal sealed class ArgumentCheck
{
    private static readonly EvaluationOptions s_options = new() { OutputFormat = OutputFormat.List };

    private readonly JsonObject _schema;
    private readonly JsonSchema? _full;

    public ArgumentCheck(JsonObject schema)
    {
        _schema = schema;
        if (!IsFlat(schema))
        {
            _full = JsonSchema.FromText(schema.ToJsonString());
        }
    }

    /// <summary>What is wrong with <paramref name="arguments"/>, or null when nothing is.</summary>
    public string? Problem(JsonElement arguments)
    {
        if (_full is null)
        {
            return ToolArguments.Validate(_schema, arguments);
        }
        if (arguments.ValueKind != JsonValueKind.Object)
        {
            return "expected a JSON object.";
        }
        if (UnstorableText(arguments, "") is { } text)
        {
            return text;
        }
        var result = _full.Evaluate(JsonNode.Parse(arguments.GetRawText()), s_options);
        if (result.IsValid)
        {
            return null;
        }
        var errors = (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Values.Select(e => (d.InstanceLocation.ToString() is { Length: > 0 } at ? at + ": " : "") + e))
            .Distinct(StringComparer.Ordinal)
            .Take(5)
            .ToList();
        return errors.Count == 0 ? "the arguments do not match the tool's schema." : string.Join("; ", errors);
    }

    /// <summary>Whether <see cref="ToolArguments"/> checks the whole schema: closed, all required, scalar properties.</summary>
    private static bool IsFlat(JsonObject schema)
    {
        if (schema["additionalProperties"] is not JsonValue closed || closed.GetValueKind() != JsonValueKind.False)
        {
            return false;
        }
        var properties = schema["properties"] as JsonObject ?? [];
        var required = (schema["required"] as JsonArray)?.Select(n => (string?)n).ToHashSet(StringComparer.Ordinal) ?? [];
        var known = new HashSet<string>(StringComparer.Ordinal) { "type", "properties", "required", "additionalProperties", "description", "title" };
        return schema.All(p => known.Contains(p.Key))
            && properties.All(p => required.Contains(p.Key)
                && p.Value is JsonObject definition
                && (string?)(definition["type"] as JsonValue) is "string" or "integer" or "boolean"
                && definition.All(k => k.Key is "type" or "description" or "maxLength" or "title"));
    }

    private static string? UnstorableText(JsonElement value, string path)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                string text;
                try
                {
                    text = value.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    return $"{Where(path)} holds text that is not valid Unicode (an unpaired surrogate escape such as \\udc00).";
                }
                return text.Contains('\0', StringComparison.Ordinal)
                    ? $"{Where(path)} holds a NUL character (\\u0000), which PostgreSQL text cannot hold."
                    : null;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    if (property.Name.Contains('\0', StringComparison.Ordinal))
                    {
                        return $"a property name under {Where(path)} holds a NUL character.";
                    }
                    if (UnstorableText(property.Value, path + "/" + property.Name) is { } problem)
                    {
                        return problem;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (UnstorableText(item, path + "/" + i++) is { } problem)
                    {
                        return problem;
                    }
                }
                return null;
            default:
                return null;
        }
    }

    private static string Where(string path) => path.Length == 0 ? "the arguments" : $"\"{path}\"";
}
