using System.Text.Json.Nodes;
using AgentWorker.Jobs.Agent;

namespace AgentWorker.Tests.Agent;

/// <summary>What each turn sends: only new items when chained; everything on a full resend, reasoning replayed in place.</summary>
public sealed class TranscriptTests
{
    private static JsonObject Reasoning(string id, string? content)
    {
        var item = new JsonObject { ["id"] = id, ["type"] = "reasoning", ["summary"] = new JsonArray() };
        if (content is not null)
        {
            item["encrypted_content"] = content;
        }
        return item;
    }

    private static JsonObject Call(string callId) => new() { ["type"] = "function_call", ["call_id"] = callId, ["name"] = "query", ["arguments"] = "{}" };

    private static string[] Types(JsonArray input) => [.. input.Select(i => (string?)i!["type"] + ":" + ((string?)i["id"] ?? (string?)i["call_id"] ?? ""))];

    [Fact]
    public void Input_FullResend_ReplaysReasoningWithContentInPlace_AndDropsReasoningWithout()
    {
        var transcript = new Transcript();
        transcript.Add(Transcript.UserMessage("q"));
        transcript.AddResponse([Reasoning("rs_1", "gAAAA1"), Call("c1")]);
        transcript.Add(Transcript.FunctionCallOutput("c1", "out"));
        transcript.AddResponse([Reasoning("rs_2", null), Call("c2")]);
        transcript.Add(Transcript.FunctionCallOutput("c2", "out"));

        var full = transcript.Input(chained: false);
        var chained = transcript.Input(chained: true);

        Assert.Equal(["message:", "reasoning:rs_1", "function_call:c1", "function_call_output:c1", "function_call:c2", "function_call_output:c2"], Types(full));
        Assert.Equal("gAAAA1", (string?)full[1]!["encrypted_content"]);
        Assert.Equal(["function_call_output:c2"], Types(chained));
    }
}
