using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Checks arguments against the flat, strict schemas our tools use: an object whose properties are all
/// required, of type string/integer/boolean, with no others.
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
                return $"property \"{name}\" must be a {expected}.";
            }
            if (expected == "string" && definition?["maxLength"] is JsonValue max && max.TryGetValue<int>(out var maxLength)
                && value.GetString()!.Length > maxLength) // String kind checked just above.
            {
                return $"property \"{name}\" is longer than {maxLength} characters.";
            }
        }
        return null;
    }
}
