using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Llm;

/// <summary>Token usage of one response, as reported on <c>response.completed</c>.</summary>
internal readonly record struct TokenUsage(long InputTokens, long CachedTokens, long OutputTokens, long ReasoningTokens)
{
    internal static TokenUsage FromJson(JsonNode? usage)
    {
        if (usage is not JsonObject u)
        {
            return default;
        }
        return new TokenUsage(
            Read(u["input_tokens"]),
            Read(u["input_tokens_details"]?["cached_tokens"]),
            Read(u["output_tokens"]),
            Read(u["output_tokens_details"]?["reasoning_tokens"]));
    }

    private static long Read(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0;
}
