using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The subset of JSON Schema that Structured Outputs accepts in strict mode (<c>strict: true</c>). A tool's own schema
/// may say more (<c>maxLength</c>, checked by <see cref="ToolArguments"/>); what goes on the wire is cut to the subset,
/// since the API refuses any other keyword for every turn of every task.
/// </summary>
internal static class StrictSchema
{
    /// <summary>Keywords allowed in a strict schema.</summary>
    public static readonly FrozenSet<string> Keywords = FrozenSet.Create(StringComparer.Ordinal,
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "description",
        "$defs", "$ref", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minItems", "maxItems");

    /// <summary>Keywords whose value maps names to schemas (not keywords themselves).</summary>
    private static readonly FrozenSet<string> s_schemaMaps = FrozenSet.Create(StringComparer.Ordinal, "properties", "$defs");

    /// <summary>A copy of <paramref name="schema"/> with only the strict subset, at every depth.</summary>
    public static JsonObject ForWire(JsonObject schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var wire = new JsonObject();
        foreach (var (key, value) in schema)
        {
            if (!Keywords.Contains(key))
            {
                continue;
            }
            wire[key] = value switch
            {
                JsonObject map when s_schemaMaps.Contains(key) => Map(map),
                JsonObject nested => ForWire(nested),
                JsonArray list when key == "anyOf" => new JsonArray(list.Select(n => n is JsonObject o ? (JsonNode)ForWire(o) : n?.DeepClone()).ToArray()),
                _ => value?.DeepClone(),
            };
        }
        return wire;
    }

    /// <summary>The keywords of <paramref name="schema"/> outside the subset, with where they stand.</summary>
    public static IEnumerable<string> Unsupported(JsonObject schema, string path = "")
    {
        ArgumentNullException.ThrowIfNull(schema);
        foreach (var (key, value) in schema)
        {
            if (!Keywords.Contains(key))
            {
                yield return path + "/" + key;
                continue;
            }
            var children = value switch
            {
                JsonObject map when s_schemaMaps.Contains(key) => map.Select(p => (path + "/" + key + "/" + p.Key, p.Value as JsonObject)),
                JsonObject nested => [(path + "/" + key, nested)],
                JsonArray list when key == "anyOf" => list.Select((n, i) => (path + "/anyOf/" + i, n as JsonObject)),
                _ => [],
            };
            foreach (var (childPath, child) in children)
            {
                if (child is not null)
                {
                    foreach (var problem in Unsupported(child, childPath))
                    {
                        yield return problem;
                    }
                }
            }
        }
    }

    private static JsonObject Map(JsonObject map)
    {
        var copy = new JsonObject();
        foreach (var (name, value) in map)
        {
            copy[name] = value is JsonObject o ? ForWire(o) : value?.DeepClone();
        }
        return copy;
    }
}
