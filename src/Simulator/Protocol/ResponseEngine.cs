using System.Text.Json.Nodes;
using AgentWorker.Simulator.Model;

namespace AgentWorker.Simulator.Protocol;

/// <summary>Turns one create request plus the continued context into a response: what both transports share.</summary>
public static class ResponseEngine
{
    /// <summary>
    /// A request ready to stream. <paramref name="UnpairedSurrogates"/>: its output holds half a surrogate pair (a
    /// <c>wire_call</c> or <c>wire_answer</c>), to be sent as a JSON escape (<see cref="WireJson"/>).
    /// </summary>
    public sealed record Prepared(string Id, List<JsonObject> Context, JsonArray Output, JsonObject Usage, bool UnpairedSurrogates = false);

    /// <summary>Validates the request; returns (null, error, status) for bad input, the error as the REST error body.</summary>
    public static (Prepared? Response, JsonObject? Error, int Status) Prepare(
        JsonObject request, IReadOnlyList<JsonObject>? previous, SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        if (request["model"] is not JsonValue model || string.IsNullOrWhiteSpace((string?)model))
        {
            return (null, SimulatorErrors.Body("invalid_request_error", "missing_required_parameter", "Missing required parameter: 'model'.", "model"), 400);
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
                        return (null, SimulatorErrors.Body("invalid_request_error", "invalid_type", "Each input item must be an object.", "input"), 400);
                    }
                    input.Add((JsonObject)o.DeepClone());
                }
                break;
            default:
                return (null, SimulatorErrors.Body("invalid_request_error", "invalid_type", "'input' must be a string or an array.", "input"), 400);
        }

        var context = new List<JsonObject>(previous ?? []);
        context.AddRange(input);
        if (RequestChecks.Refusal(request, input, context, options.ReasoningBytes) is { } refusal)
        {
            return (null, refusal.Error, refusal.Status);
        }
        var id = ResponseEvents.NewId("resp");
        var generate = request["generate"] is not JsonValue g || !g.TryGetValue<bool>(out var b) || b;
        var output = generate ? ResponseEvents.OutputItems(ScriptedModel.Reply(context, ToolNames(request))) : [];
        var reasoningTokens = 0;
        if (generate && options.Reasoning)
        {
            // A reasoning model thinks before it answers; its thoughts come back encrypted only when asked for.
            var reasoningId = ResponseEvents.NewId("rs");
            var reasoning = new JsonObject { ["id"] = reasoningId, ["type"] = "reasoning", ["summary"] = new JsonArray() };
            if ((request["include"] as JsonArray ?? []).Any(i => (string?)i == "reasoning.encrypted_content"))
            {
                reasoning["encrypted_content"] = RequestChecks.EncryptedContent(reasoningId, options.ReasoningBytes);
            }
            output.Insert(0, reasoning);
            reasoningTokens = ReasoningTokens;
        }
        var usage = Usage(context, previous, output, reasoningTokens);
        context.AddRange(output.OfType<JsonObject>().Select(o => (JsonObject)o.DeepClone()));
        return (new Prepared(id, context, output, usage, WireJson.HasUnpairedSurrogate(output)), null, 200);
    }

    /// <summary>Reasoning tokens of each response in reasoning mode.</summary>
    public const int ReasoningTokens = 24;

    private static HashSet<string> ToolNames(JsonObject request) =>
        (request["tools"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(t => (string?)t["name"] ?? (string?)t["function"]?["name"])
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Input tokens are the whole context; the part continued from the cached parent counts as cached.</summary>
    private static JsonObject Usage(List<JsonObject> context, IReadOnlyList<JsonObject>? previous, JsonArray output, int reasoningTokens)
    {
        var input = ResponseEvents.Tokens(new JsonArray(context.Select(c => (JsonNode)c.DeepClone()).ToArray()).ToJsonString());
        var cached = previous is null ? 0
            : ResponseEvents.Tokens(new JsonArray(previous.Select(c => (JsonNode)c.DeepClone()).ToArray()).ToJsonString());
        var produced = (output.Count == 0 ? 0 : ResponseEvents.Tokens(output.ToJsonString())) + reasoningTokens;
        return new JsonObject
        {
            ["input_tokens"] = input,
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = Math.Min(cached, input) },
            ["output_tokens"] = produced,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = reasoningTokens },
            ["total_tokens"] = input + produced,
        };
    }
}
