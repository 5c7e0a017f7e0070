using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// The run's own copy of the conversation. The client always keeps it whole, so a turn can be resent in full
/// on a fresh socket; <see cref="SentCount"/> marks what the server already holds through the chain.
/// </summary>
internal sealed class Transcript
{
    private readonly List<JsonObject> _items = [];

    public int Count => _items.Count;

    /// <summary>Items the server holds as part of the last response's context.</summary>
    public int SentCount { get; private set; }

    public static JsonObject UserMessage(string text) => new()
    {
        ["type"] = "message",
        ["role"] = "user",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
    };

    public static JsonObject FunctionCallOutput(string callId, string output) => new()
    {
        ["type"] = "function_call_output",
        ["call_id"] = callId,
        ["output"] = output,
    };

    public void Add(JsonObject item) => _items.Add(item);

    /// <summary>Appends a response's output and marks everything so far as held by the server.</summary>
    public void AddResponse(IEnumerable<JsonObject> output)
    {
        _items.AddRange(output);
        SentCount = _items.Count;
    }

    /// <summary>
    /// The input of the next turn: only new items when chained, everything otherwise. A full resend replays each
    /// reasoning item in place with its encrypted content (with <c>store:false</c> the server keeps nothing to look it
    /// up by id); one that came without it cannot be replayed and is left out, as the API asks.
    /// </summary>
    public JsonArray Input(bool chained)
    {
        var from = chained ? SentCount : 0;
        var input = new JsonArray();
        for (var i = from; i < _items.Count; i++)
        {
            if (!chained && IsReasoningWithoutContent(_items[i]))
            {
                continue;
            }
            input.Add(_items[i].DeepClone());
        }
        return input;
    }

    private static bool IsReasoningWithoutContent(JsonObject item) =>
        EventJson.String(item["type"]) == "reasoning"
        && !(item["encrypted_content"] is JsonValue content && content.TryGetValue<string>(out var text) && text.Length > 0);
}
