using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// A tool's argument schema on the wire. Structured Outputs' strict mode (<c>strict: true</c>) takes a subset of JSON
/// Schema (<see cref="StrictSchema"/>) in which every object is closed (<c>additionalProperties: false</c>) and names all
/// its properties as required. A schema that fits once the keywords outside the subset are cut (the worker checks those
/// itself, before the call) and its objects that say nothing of other properties are closed is sent strict; any other (an optional parameter, an open object) is sent as it is, with
/// <c>strict: false</c>.
/// </summary>
internal static class ToolSchema
{
    /// <summary>The schema as a mutable object; an absent or non-object schema is an empty object's.</summary>
    public static JsonObject Of(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && JsonNode.Parse(schema.GetRawText()) is JsonObject parsed
            ? parsed
            : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["required"] = new JsonArray(), ["additionalProperties"] = false };

    /// <summary>The schema to send, whether it is strict, and a note on what kept it from being strict (null when it is).</summary>
    public static (JsonObject Wire, bool Strict, string? Notes) ForWire(JsonObject schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var cut = StrictSchema.ForWire(schema);
        Close(cut);
        var open = OpenObjects(cut, "").ToList();
        if (open.Count == 0)
        {
            return (cut, true, null);
        }
        var wire = (JsonObject)schema.DeepClone();
        wire.Remove("$schema");
        return (wire, false, string.Join("; ", open.Take(5)));
    }

    /// <summary>
    /// Says <c>additionalProperties: false</c> for every object that says nothing of it (AIFunctionFactory's schemas do
    /// not): on the wire only, so the model is held tighter than the tool's own check, never looser.
    /// </summary>
    private static void Close(JsonObject schema)
    {
        var properties = schema["properties"] as JsonObject;
        if (((string?)(schema["type"] as JsonValue) == "object" || properties is not null) && !schema.ContainsKey("additionalProperties"))
        {
            schema["additionalProperties"] = false;
        }
        foreach (var child in (properties ?? []).Select(p => p.Value)
            .Concat(schema["$defs"] is JsonObject defs ? defs.Select(d => d.Value) : [])
            .Concat(schema["items"] is JsonObject item ? [item] : [])
            .Concat(schema["anyOf"] is JsonArray list ? list : []))
        {
            if (child is JsonObject nested)
            {
                Close(nested);
            }
        }
    }

    /// <summary>Where an object of the schema is not closed and fully required.</summary>
    private static IEnumerable<string> OpenObjects(JsonObject schema, string path)
    {
        var properties = schema["properties"] as JsonObject;
        var isObject = (string?)(schema["type"] as JsonValue) == "object" || properties is not null;
        if (isObject)
        {
            if (schema["additionalProperties"] is not JsonValue closed || closed.GetValueKind() != JsonValueKind.False)
            {
                yield return $"{Where(path)} allows other properties";
            }
            var required = (schema["required"] as JsonArray)?.Select(n => (string?)n).ToHashSet(StringComparer.Ordinal) ?? [];
            foreach (var (name, _) in properties ?? [])
            {
                if (!required.Contains(name))
                {
                    yield return $"property \"{name}\"{(path.Length == 0 ? "" : " of " + path)} is optional";
                }
            }
        }
        foreach (var (key, value) in schema)
        {
            var children = (key, value) switch
            {
                ("properties" or "$defs", JsonObject map) => map.Select(p => (path + "/" + p.Key, p.Value as JsonObject)),
                ("items", JsonObject item) => [(path + "/items", item)],
                ("anyOf", JsonArray list) => list.Select((n, i) => (path + "/anyOf/" + i, n as JsonObject)),
                _ => [],
            };
            foreach (var (childPath, child) in children)
            {
                if (child is not null)
                {
                    foreach (var problem in OpenObjects(child, childPath))
                    {
                        yield return problem;
                    }
                }
            }
        }
    }

    private static string Where(string path) => path.Length == 0 ? "the arguments object" : path;
}
