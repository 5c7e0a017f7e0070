using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// One item of a run's conversation: a message, a function call or its output, a reasoning item. The loop reads it
/// through <see cref="Kind"/> and the typed members; what is stored (the run's checkpoint) and what goes on the wire is
/// the Responses API's item shape, whichever model answered, and only <c>Llm/</c> reads that shape. Items the model
/// sent are kept whole, so fields the loop does not read (a reasoning item's encrypted content) are replayed as sent.
/// </summary>
internal sealed class ConversationItem
{
    private ConversationItem(JsonObject json)
    {
        Json = json;
        Kind = (EventJson.String(json["type"]), EventJson.String(json["role"])) switch
        {
            ("message", "user") => ConversationItemKind.UserMessage,
            ("message", _) => ConversationItemKind.AssistantMessage,
            ("function_call", _) => ConversationItemKind.FunctionCall,
            ("function_call_output", _) => ConversationItemKind.FunctionCallOutput,
            ("reasoning", _) => ConversationItemKind.Reasoning,
            _ => ConversationItemKind.Other,
        };
    }

    /// <summary>The item in the Responses API's shape. Read only by <c>Llm/</c>; never changed once made.</summary>
    internal JsonObject Json { get; }

    public ConversationItemKind Kind { get; }

    /// <summary>The call id of a function call or of its output.</summary>
    public string? CallId => Field("call_id");

    /// <summary>The tool a function call names.</summary>
    public string? Name => Field("name");

    /// <summary>A function call's arguments, JSON text as the model wrote it.</summary>
    public string? Arguments => Field("arguments");

    /// <summary>What a call returned (a function call output's text).</summary>
    public string? Output => Field("output");

    /// <summary>Whether a full resend may carry this item: a reasoning item only with its encrypted content.</summary>
    /// <remarks>
    /// With <c>store:false</c> the server keeps nothing to look a reasoning item up by id; replayed without its content,
    /// the API answers 404 "Item with id 'rs_…' not found", so such an item is left out, as the API asks.
    /// </remarks>
    public bool Replayable => Kind != ConversationItemKind.Reasoning || EncryptedContent is { Length: > 0 };

    /// <summary>A reasoning item's encrypted content (requested with <c>include: reasoning.encrypted_content</c>).</summary>
    internal string? EncryptedContent => EventJson.String(Json["encrypted_content"]);

    /// <summary>The text parts of a message (<c>output_text</c> of the model's, <c>input_text</c> of the user's), in order.</summary>
    public IEnumerable<string> Texts()
    {
        var part = Kind == ConversationItemKind.UserMessage ? "input_text" : "output_text";
        return (Json["content"] as JsonArray ?? [])
            .Where(c => EventJson.String(c?["type"]) == part)
            .Select(c => EventJson.String(c?["text"]) ?? "");
    }

    /// <summary>The text parts of a reasoning item's summary.</summary>
    internal IEnumerable<string> SummaryTexts() => (Json["summary"] as JsonArray ?? [])
        .Select(s => EventJson.String(s?["text"]))
        .OfType<string>();

    public static ConversationItem UserMessage(string text) => new(new JsonObject
    {
        ["type"] = "message",
        ["role"] = "user",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
    });

    public static ConversationItem FunctionCallOutput(string callId, string output) => new(new JsonObject
    {
        ["type"] = "function_call_output",
        ["call_id"] = callId,
        ["output"] = output,
    });

    internal static ConversationItem AssistantMessage(string? id, string text) => new(WithId(id, new JsonObject
    {
        ["type"] = "message",
        ["role"] = "assistant",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text }),
    }));

    internal static ConversationItem FunctionCall(string callId, string name, string arguments) => new(new JsonObject
    {
        ["type"] = "function_call",
        ["call_id"] = callId,
        ["name"] = name,
        ["arguments"] = arguments,
    });

    internal static ConversationItem Reasoning(string? id, string? summary, string? encryptedContent)
    {
        var item = WithId(id, new JsonObject
        {
            ["type"] = "reasoning",
            ["summary"] = summary is null ? new JsonArray() : new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = summary }),
        });
        if (encryptedContent is not null)
        {
            item["encrypted_content"] = encryptedContent;
        }
        return new ConversationItem(item);
    }

    private static JsonObject WithId(string? id, JsonObject item)
    {
        if (id is not null)
        {
            item.Insert(0, "id", id);
        }
        return item;
    }

    /// <summary>An output item as the Responses API sent it (owned from here on: the caller keeps no reference).</summary>
    internal static ConversationItem FromWire(JsonObject item) => new(item);

    /// <summary>The items of a stored step (a JSON array, as <see cref="Store"/> wrote it).</summary>
    public static List<ConversationItem> Load(string stored) =>
        (JsonNode.Parse(stored) as JsonArray ?? []).OfType<JsonObject>().Select(i => new ConversationItem(i)).ToList();

    /// <summary>The items as a step stores them: a JSON array of Responses items.</summary>
    public static string Store(IEnumerable<ConversationItem> items)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var item in items)
            {
                item.Json.WriteTo(writer);
            }
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// A field as text, whatever the model put there: a string as is, any other JSON as its JSON text (the tool then
    /// refuses it with a clear error).
    /// </summary>
    private string? Field(string name) => EventJson.String(Json[name]) ?? Json[name]?.ToJsonString();
}
