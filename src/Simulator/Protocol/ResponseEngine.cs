using System.Text.Json.Nodes;
using AgentWorker.Simulator.Model;

namespace AgentWorker.Simulator.Protocol;

/// <summary>Turns one create request plus the continued context into a response: what both transports share.</summary>
public static class ResponseEngine
{
    /// <summary>A request ready to stream, or the error that refuses it.</summary>
    public sealed record Prepared(string Id, List<JsonObject> Context, JsonArray Output, JsonObject Usage);

    /// <summary>Validates the request; returns (null, error) for bad input, as the REST error body.</summary>
    public static (Prepared? Response, JsonObject? Error) Prepare(JsonObject request, IReadOnlyList<JsonObject>? previous)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request["model"] is not JsonValue model || string.IsNullOrWhiteSpace((string?)model))
        {
            return (null, SimulatorErrors.Body("invalid_request_error", "missing_required_parameter", "Missing required parameter: 'model'.", "model"));
        }
        var input = new List<JsonObject>();
        switch (request["input"])
        {
            case null:
                break;
            case JsonValue text when text.TryGetValue<string>(out var s):
                input.Add(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = s });
                break;
            case JsonArray items:
                foreach (var item in items)
                {
                    if (item is not JsonObject o)
                    {
                        return (null, SimulatorErrors.Body("invalid_request_error", "invalid_type", "Each input item must be an object.", "input"));
                    }
                    input.Add((JsonObject)o.DeepClone());
                }
                break;
            default:
                return (null, SimulatorErrors.Body("invalid_request_error", "invalid_type", "'input' must be a string or an array.", "input"));
        }

        var context = new List<JsonObject>(previous ?? []);
        context.AddRange(input);
        var id = ResponseEvents.NewId("resp");
        var generate = request["generate"] is not JsonValue g || !g.TryGetValue<bool>(out var b) || b;
        var output = generate ? ResponseEvents.OutputItems(ScriptedModel.Reply(context, ToolNames(request))) : [];
        var usage = Usage(context, previous, output);
        context.AddRange(output.OfType<JsonObject>().Select(o => (JsonObject)o.DeepClone()));
        return (new Prepared(id, context, output, usage), null);
    }

    private static HashSet<string> ToolNames(JsonObject request) =>
        (request["tools"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(t => (string?)t["name"] ?? (string?)t["function"]?["name"])
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Input tokens are the whole context; the part continued from the cached parent counts as cached.</summary>
    private static JsonObject Usage(List<JsonObject> context, IReadOnlyList<JsonObject>? previous, JsonArray output)
    {
        var input = ResponseEvents.Tokens(new JsonArray(context.Select(c => (JsonNode)c.DeepClone()).ToArray()).ToJsonString());
        var cached = previous is null ? 0
            : ResponseEvents.Tokens(new JsonArray(previous.Select(c => (JsonNode)c.DeepClone()).ToArray()).ToJsonString());
        var produced = output.Count == 0 ? 0 : ResponseEvents.Tokens(output.ToJsonString());
        return new JsonObject
        {
            ["input_tokens"] = input,
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = Math.Min(cached, input) },
            ["output_tokens"] = produced,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
            ["total_tokens"] = input + produced,
        };
    }
}
