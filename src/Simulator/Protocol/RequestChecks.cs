using System.Text;
using System.Text.Json.Nodes;

namespace AgentWorker.Simulator.Protocol;

/// <summary>
/// What the real server refuses before it generates anything, with its status and error: a strict tool schema that
/// uses a keyword outside the Structured Outputs subset (400), a <c>store:false</c> request that replays a reasoning
/// item without its encrypted content (404), a function call left without its output (400).
/// </summary>
public static class RequestChecks
{
    /// <summary>Keywords a strict function schema may use (the documented Structured Outputs subset).</summary>
    public static readonly IReadOnlySet<string> StrictKeywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "description",
        "$defs", "$ref", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minItems", "maxItems",
    };

    /// <summary>The encrypted content the simulator gives a reasoning item, and accepts back.</summary>
    public static string EncryptedContent(string reasoningId, int bytes = 0)
    {
        var head = "gAAAA" + Convert.ToBase64String(Encoding.UTF8.GetBytes("sim:" + reasoningId));
        if (bytes <= head.Length)
        {
            return head;
        }
        // Real encrypted reasoning is kilobytes of ciphertext: as incompressible here, and the same for the same id.
        var filler = new byte[(bytes - head.Length) * 3 / 4 + 3];
        var seed = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(reasoningId));
        for (var block = 0; block * 32 < filler.Length; block++)
        {
            seed = System.Security.Cryptography.SHA256.HashData(seed);
            seed.AsSpan(0, Math.Min(32, filler.Length - block * 32)).CopyTo(filler.AsSpan(block * 32));
        }
        return (head + Convert.ToBase64String(filler))[..bytes];
    }

    /// <summary>The refusal of the request, or null when it may proceed.</summary>
    public static (int Status, JsonObject Error)? Refusal(JsonObject request, IReadOnlyList<JsonObject> input, IReadOnlyList<JsonObject> context,
        int reasoningBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        return StrictSchemaRefusal(request) ?? ReasoningRefusal(request, input, reasoningBytes) ?? MissingOutputRefusal(context);
    }

    private static (int, JsonObject)? StrictSchemaRefusal(JsonObject request)
    {
        foreach (var tool in (request["tools"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (tool["strict"] is not JsonValue strict || !strict.TryGetValue<bool>(out var isStrict) || !isStrict
                || tool["parameters"] is not JsonObject parameters)
            {
                continue;
            }
            if (FirstUnsupported(parameters, []) is { } problem)
            {
                var name = (string?)tool["name"] ?? "?";
                return (400, SimulatorErrors.Body("invalid_request_error", "invalid_function_parameters",
                    $"Invalid schema for function '{name}': In context=({string.Join(", ", problem.Path.Select(p => $"'{p}'"))}), "
                    + $"'{problem.Keyword}' is not permitted.", "tools"));
            }
        }
        return null;
    }

    private static (List<string> Path, string Keyword)? FirstUnsupported(JsonObject schema, List<string> path)
    {
        foreach (var (key, value) in schema)
        {
            if (!StrictKeywords.Contains(key))
            {
                return (path, key);
            }
            IEnumerable<(string, JsonObject?)> children = value switch
            {
                JsonObject map when key is "properties" or "$defs" => map.Select(p => (p.Key, p.Value as JsonObject)),
                JsonObject nested => [(key, nested)],
                JsonArray list when key == "anyOf" => list.Select((n, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), n as JsonObject)),
                _ => [],
            };
            foreach (var (name, child) in children)
            {
                if (child is not null && FirstUnsupported(child, [.. path, key == "items" ? "items" : key, name]) is { } found)
                {
                    return found;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// With <c>store:false</c> nothing is kept by id: a reasoning item replayed in the input must carry the encrypted
    /// content the server gave it (openai/openai-agents-js#546 shows the real answer).
    /// </summary>
    private static (int, JsonObject)? ReasoningRefusal(JsonObject request, IReadOnlyList<JsonObject> input, int reasoningBytes)
    {
        var stored = request["store"] is not JsonValue store || !store.TryGetValue<bool>(out var keep) || keep;
        if (stored)
        {
            return null;
        }
        foreach (var item in input.Where(i => (string?)i["type"] == "reasoning"))
        {
            var id = (string?)item["id"] ?? "";
            if ((string?)item["encrypted_content"] != EncryptedContent(id, reasoningBytes))
            {
                return (404, SimulatorErrors.Body("invalid_request_error", "item_not_found",
                    $"Item with id '{id}' not found. Items are not persisted when `store` is set to false. Try again with `store` "
                    + "set to true, or remove this item from your input.", "input"));
            }
        }
        return null;
    }

    private static (int, JsonObject)? MissingOutputRefusal(IReadOnlyList<JsonObject> context)
    {
        var answered = context.Where(i => (string?)i["type"] == "function_call_output")
            .Select(i => (string?)i["call_id"]).ToHashSet(StringComparer.Ordinal);
        foreach (var call in context.Where(i => (string?)i["type"] == "function_call"))
        {
            var callId = (string?)call["call_id"];
            if (!answered.Contains(callId))
            {
                return (400, SimulatorErrors.Body("invalid_request_error", "missing_tool_output",
                    $"No tool output found for function call {callId}.", "input"));
            }
        }
        return null;
    }
}
