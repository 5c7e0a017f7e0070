using System.Text.Json.Nodes;
using AgentWorker.Simulator.Model;

namespace AgentWorker.Simulator.Protocol;

/// <summary>
/// Builds the events of one response in the order a real server streams them, each with an increasing
/// <c>sequence_number</c>, ending with <c>response.completed</c> carrying output and usage.
/// </summary>
public static class ResponseEvents
{
    private static long s_next;

    public static string NewId(string prefix) => prefix + "_" + Interlocked.Increment(ref s_next).ToString("x8", System.Globalization.CultureInfo.InvariantCulture)
        + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The terminal response object, also the body of a non-streaming POST.</summary>
    public static JsonObject Response(string id, JsonObject request, string status, JsonArray output, JsonObject? usage) => new()
    {
        ["id"] = id,
        ["object"] = "response",
        ["created_at"] = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(),
        ["status"] = status,
        ["model"] = request["model"]?.DeepClone(),
        ["output"] = output.DeepClone(),
        ["previous_response_id"] = request["previous_response_id"]?.DeepClone(),
        ["usage"] = usage?.DeepClone(),
        ["error"] = null,
        ["incomplete_details"] = null,
        ["store"] = request["store"]?.DeepClone() ?? true,
        // The request as the server understood it, as the real response object echoes it.
        ["instructions"] = request["instructions"]?.DeepClone(),
        ["tools"] = request["tools"]?.DeepClone() ?? new JsonArray(),
        ["tool_choice"] = request["tool_choice"]?.DeepClone() ?? "auto",
        ["parallel_tool_calls"] = request["parallel_tool_calls"]?.DeepClone() ?? true,
        ["metadata"] = request["metadata"]?.DeepClone() ?? new JsonObject(),
        ["temperature"] = request["temperature"]?.DeepClone() ?? 1.0,
        ["top_p"] = request["top_p"]?.DeepClone() ?? 1.0,
        ["max_output_tokens"] = request["max_output_tokens"]?.DeepClone(),
        ["reasoning"] = request["reasoning"]?.DeepClone() ?? new JsonObject { ["effort"] = null, ["summary"] = null },
        ["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
        ["truncation"] = request["truncation"]?.DeepClone() ?? "disabled",
        ["user"] = null,
        ["background"] = false,
        ["service_tier"] = "default",
    };

    /// <summary>Output items of a reply, with fresh ids.</summary>
    public static JsonArray OutputItems(ModelReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var items = new JsonArray();
        foreach (var call in reply.Calls)
        {
            items.Add(new JsonObject
            {
                ["id"] = NewId("fc"),
                ["type"] = "function_call",
                ["status"] = "completed",
                ["call_id"] = NewId("call"),
                ["name"] = call.Name,
                ["arguments"] = call.Arguments,
            });
        }
        if (reply.Text is not null)
        {
            items.Add(new JsonObject
            {
                ["id"] = NewId("msg"),
                ["type"] = "message",
                ["role"] = "assistant",
                ["status"] = "completed",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = reply.Text, ["annotations"] = new JsonArray() }),
            });
        }
        return items;
    }

    /// <summary>
    /// The full event stream. <paramref name="pace"/> is awaited before each event with the number of output tokens
    /// that event carries (0 for bookkeeping events), so the caller can apply time-to-first-token and tokens/s.
    /// </summary>
    public static async IAsyncEnumerable<JsonObject> StreamAsync(
        string id, JsonObject request, JsonArray output, JsonObject usage, Func<int, int, Task> pace)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(pace);
        var seq = 0;
        JsonObject Event(string type, JsonObject body)
        {
            var evt = new JsonObject { ["type"] = type, ["sequence_number"] = seq++ };
            foreach (var (key, value) in body)
            {
                evt[key] = value?.DeepClone();
            }
            return evt;
        }
        yield return Event("response.created", new JsonObject { ["response"] = Response(id, request, "in_progress", [], null) });
        yield return Event("response.in_progress", new JsonObject { ["response"] = Response(id, request, "in_progress", [], null) });
        for (var index = 0; index < output.Count; index++)
        {
            var item = (JsonObject)output[index]!;
            await pace(index, 0);
            var itemId = (string?)item["id"];
            if ((string?)item["type"] == "function_call")
            {
                var arguments = (string?)item["arguments"] ?? "";
                var added = (JsonObject)item.DeepClone();
                added["status"] = "in_progress";
                added["arguments"] = "";
                yield return Event("response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = added });
                foreach (var chunk in Chunks(arguments))
                {
                    await pace(index, Tokens(chunk));
                    yield return Event("response.function_call_arguments.delta",
                        new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["delta"] = chunk });
                }
                yield return Event("response.function_call_arguments.done",
                    new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["arguments"] = arguments });
            }
            else if ((string?)item["type"] == "reasoning")
            {
                // The reasoning itself is never streamed: the item is announced, then done (with its encrypted content).
                var added = (JsonObject)item.DeepClone();
                added.Remove("encrypted_content");
                yield return Event("response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = added });
            }
            else
            {
                var text = (string?)item["content"]?[0]?["text"] ?? "";
                var added = (JsonObject)item.DeepClone();
                added["status"] = "in_progress";
                added["content"] = new JsonArray();
                yield return Event("response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = added });
                var part = new JsonObject { ["type"] = "output_text", ["text"] = "", ["annotations"] = new JsonArray() };
                var position = new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["content_index"] = 0 };
                yield return Event("response.content_part.added", With(position, "part", part));
                foreach (var chunk in Chunks(text))
                {
                    await pace(index, Tokens(chunk));
                    yield return Event("response.output_text.delta", With(With(position, "delta", chunk), "logprobs", new JsonArray()));
                }
                yield return Event("response.output_text.done", With(With(position, "text", text), "logprobs", new JsonArray()));
                part["text"] = text;
                yield return Event("response.content_part.done", With(position, "part", part));
            }
            yield return Event("response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() });
        }
        yield return Event("response.completed", new JsonObject { ["response"] = Response(id, request, "completed", output, usage) });
    }

    /// <summary>A rough token count: one token per 4 characters, at least 1.</summary>
    public static int Tokens(string text) => Math.Max(1, (text?.Length ?? 0) / 4);

    private static JsonObject With(JsonObject source, string key, JsonNode? value)
    {
        var copy = (JsonObject)source.DeepClone();
        copy[key] = value?.DeepClone();
        return copy;
    }

    /// <summary>Splits text into deltas of about 4 tokens, as a model streams them.</summary>
    private static IEnumerable<string> Chunks(string text)
    {
        const int size = 16;
        if (text.Length == 0)
        {
            yield break;
        }
        for (var i = 0; i < text.Length; i += size)
        {
            yield return text.Substring(i, Math.Min(size, text.Length - i));
        }
    }
}
