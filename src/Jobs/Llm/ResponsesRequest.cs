using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Llm;

/// <summary>A turn as the Responses API's <c>response.create</c>, over WebSocket or (without <c>type</c>) HTTP.</summary>
internal static class ResponsesRequest
{
    /// <summary>
    /// The <c>response.create</c> of <paramref name="request"/>: chained (<paramref name="previousResponseId"/> set), only the
    /// items after the first <paramref name="held"/> ones, which the server holds as that response's context; otherwise the
    /// whole conversation.
    /// </summary>
    /// <remarks>
    /// <c>store:false</c> keeps nothing on the server beyond the socket's own cache, so a reasoning model's reasoning
    /// items come back with their encrypted content (<c>include</c>), and a full resend replays each in place; one that
    /// came without it cannot be replayed and is left out, as the API asks.
    /// </remarks>
    public static JsonObject Create(TurnRequest request, int held, string? previousResponseId)
    {
        var chained = previousResponseId is not null;
        var items = request.Items;
        var input = new JsonArray();
        for (var i = chained ? held : 0; i < items.Count; i++)
        {
            if (!chained && !items[i].Replayable)
            {
                continue;
            }
            input.Add(items[i].Json.DeepClone());
        }
        var create = new JsonObject
        {
            ["type"] = "response.create",
            ["model"] = request.Model,
            ["store"] = false,
            ["include"] = new JsonArray("reasoning.encrypted_content"),
            ["instructions"] = request.Instructions,
            ["tools"] = request.Tools.ResponsesTools.DeepClone(),
            ["tool_choice"] = "auto",
            ["parallel_tool_calls"] = true,
            ["input"] = input,
        };
        if (request.ReasoningEffort is { } effort)
        {
            create["reasoning"] = new JsonObject { ["effort"] = effort };
        }
        if (request.MaxOutputTokens is { } maxOutput)
        {
            create["max_output_tokens"] = maxOutput;
        }
        if (chained)
        {
            create["previous_response_id"] = previousResponseId;
        }
        return create;
    }
}
