using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Checks arguments against the flat, strict schemas our tools use: an object whose properties are all
/// required, of type string/integer/boolean, with no others; and the limits the strict subset cannot say on the wire
/// (<c>maxLength</c>). Strings are decoded here, so a call whose text is not valid Unicode is refused before any tool
/// runs (<see cref="InvalidOperationException"/>, which the registry turns into a tool error).
/// </summary>
internal static class ToolArguments
{
    public static string? Validate(JsonObject schema, JsonElement arguments)
    {
        if (arguments.ValueKind != JsonValueKind.Object)
        {
            return "expected a JSON object.";
        }
        var properties = schema["properties"] as JsonObject ?? [];
        foreach (var property in arguments.EnumerateObject())
        {
            if (!properties.ContainsKey(property.Name))
            {
                return $"unknown property \"{property.Name}\".";
            }
        }
        foreach (var (name, definition) in properties)
        {
            if (!arguments.TryGetProperty(name, out var value))
            {
                return $"missing required property \"{name}\".";
            }
            var expected = (string?)definition?["type"];
            var ok = expected switch
            {
                "string" => value.ValueKind == JsonValueKind.String,
                "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
                "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                _ => true,
            };
            if (!ok)
            {
                return $"property \"{name}\" must be a {expected}, got {Kind(value.ValueKind)}.";
            }
            if (expected != "string")
            {
                continue;
            }
            var text = value.GetString()!; // String kind checked above; an unpaired surrogate throws here.
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                return $"property \"{name}\" holds a NUL character (\\u0000), which PostgreSQL text cannot hold.";
            }
            if (definition?["maxLength"] is JsonValue max && max.TryGetValue<int>(out var maxLength) && text.Length > maxLength)
            {
                return $"property \"{name}\" is {text.Length} characters long; the limit is {maxLength}.";
            }
        }
        return null;
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "nothing",
    };
}
