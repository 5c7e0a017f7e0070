using System.Text.Json;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Tests.Llm;

/// <summary>What each Responses turn sends: only new items when chained; everything on a full resend, reasoning replayed in place.</summary>
public sealed class ResponsesRequestTests
{
    private static ConversationItem Reasoning(string id, string? content)
    {
        var item = new JsonObject { ["id"] = id, ["type"] = "reasoning", ["summary"] = new JsonArray() };
        if (content is not null)
        {
            item["encrypted_content"] = content;
        }
        return ConversationItem.FromWire(item);
    }

    private static ConversationItem Call(string callId) => ConversationItem.FromWire(
        new JsonObject { ["type"] = "function_call", ["call_id"] = callId, ["name"] = "query", ["arguments"] = "{}" });

    private static string[] Types(JsonNode? input) =>
        [.. ((JsonArray)input!).Select(i => (string?)i!["type"] + ":" + ((string?)i["id"] ?? (string?)i["call_id"] ?? ""))];

    private static readonly ToolSet s_tools = new([new ToolDefinition("query", "Runs SQL.",
        JsonSerializer.SerializeToElement(new { type = "object", properties = new { sql = new { type = "string" } } }), Strict: true)]);

    private static TurnRequest Request(List<ConversationItem> items) => new()
    {
        Model = "m",
        Instructions = "be brief",
        Tools = s_tools,
        Items = items,
        ReasoningEffort = "low",
        MaxOutputTokens = 500,
    };

    [Fact]
    public void Create_FullResend_ReplaysReasoningWithContentInPlace_AndDropsReasoningWithout()
    {
        List<ConversationItem> items =
        [
            ConversationItem.UserMessage("q"), Reasoning("rs_1", "gAAAA1"), Call("c1"), ConversationItem.FunctionCallOutput("c1", "out"),
            Reasoning("rs_2", null), Call("c2"), ConversationItem.FunctionCallOutput("c2", "out"),
        ];

        var full = ResponsesRequest.Create(Request(items), held: 6, previousResponseId: null);
        var chained = ResponsesRequest.Create(Request(items), held: 6, previousResponseId: "resp_2");

        Assert.Equal(["message:", "reasoning:rs_1", "function_call:c1", "function_call_output:c1", "function_call:c2", "function_call_output:c2"],
            Types(full["input"]));
        Assert.Equal("gAAAA1", (string?)full["input"]![1]!["encrypted_content"]);
        Assert.False(full.ContainsKey("previous_response_id"));
        Assert.Equal(["function_call_output:c2"], Types(chained["input"]));
        Assert.Equal("resp_2", (string?)chained["previous_response_id"]);
    }

    [Fact]
    public void Create_WritesTheSettingsAndTheToolsOnTheWire()
    {
        var create = JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(
            ResponsesRequest.Create(Request([ConversationItem.UserMessage("q")]), held: 0, previousResponseId: null)))!;

        Assert.Equal("response.create", (string?)create["type"]);
        Assert.False((bool)create["store"]!);
        Assert.Equal("reasoning.encrypted_content", (string?)create["include"]![0]);
        Assert.Equal("be brief", (string?)create["instructions"]);
        Assert.Equal("low", (string?)create["reasoning"]!["effort"]);
        Assert.Equal(500, (int)create["max_output_tokens"]!);
        var tool = Assert.Single((JsonArray)create["tools"]!)!;
        Assert.Equal("function", (string?)tool["type"]);
        Assert.Equal("query", (string?)tool["name"]);
        Assert.True((bool)tool["strict"]!);
        Assert.Equal("string", (string?)tool["parameters"]!["properties"]!["sql"]!["type"]);
    }

    [Fact]
    public void Create_TwoTurnsFromOneToolSet_EachCarriesTheTools()
    {
        // The tools are built once and copied into every request: no request may take them from another.
        var first = ResponsesRequest.Create(Request([ConversationItem.UserMessage("a")]), 0, null);
        var second = ResponsesRequest.Create(Request([ConversationItem.UserMessage("b")]), 0, null);

        Assert.Equal(first["tools"]!.ToJsonString(), second["tools"]!.ToJsonString());
        Assert.Contains("\"query\"", second.ToJsonString(), StringComparison.Ordinal);
    }
}
