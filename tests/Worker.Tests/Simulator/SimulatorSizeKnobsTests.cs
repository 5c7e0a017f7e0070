using System.Text.Json.Nodes;
using AgentWorker.Simulator.Model;
using AgentWorker.Simulator.Protocol;

namespace AgentWorker.Tests.Simulator;

/// <summary>The simulator's knobs for realistic sizes (the storage benchmark): encrypted reasoning, wide query results, long answers.</summary>
public sealed class SimulatorSizeKnobsTests
{
    private static readonly HashSet<string> Tools = ["query"];

    private static List<JsonObject> Context(string prompt, params (string Arguments, string Output)[] calls)
    {
        var context = new List<JsonObject> { new() { ["type"] = "message", ["role"] = "user", ["content"] = prompt } };
        foreach (var (call, i) in calls.Select((c, i) => (c, i)))
        {
            context.Add(new JsonObject { ["type"] = "function_call", ["name"] = "query", ["call_id"] = $"c{i}", ["arguments"] = call.Arguments });
            context.Add(new JsonObject { ["type"] = "function_call_output", ["call_id"] = $"c{i}", ["output"] = call.Output });
        }
        return context;
    }

    [Fact]
    public void EncryptedContent_HasTheAskedLength_IsTheSameForTheSameId_AndDiffersByIdAndIsNotCompressible()
    {
        var a = RequestChecks.EncryptedContent("rs_1", 3000);
        Assert.Equal(3000, a.Length);
        Assert.Equal(a, RequestChecks.EncryptedContent("rs_1", 3000));
        Assert.NotEqual(a, RequestChecks.EncryptedContent("rs_2", 3000));
        Assert.StartsWith(RequestChecks.EncryptedContent("rs_1"), a, StringComparison.Ordinal);
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(System.Text.Encoding.ASCII.GetBytes(a));
        }
        // base64 of random bytes: no better than 6 bits a character.
        Assert.True(compressed.Length > 3000 * 0.7, $"{compressed.Length} bytes compressed");
    }

    [Fact]
    public void TurnsWithRowsAndAnswerChars_QueryWideRowsPageByPage_ThenAnswerInProseOfThatLength()
    {
        const string prompt = "[turns:3][rows:40][answer_chars:1500] orders";
        var first = ScriptedModel.Reply(Context(prompt), Tools);
        var sql = (string?)JsonNode.Parse(Assert.Single(first.Calls).Arguments)?["sql"];
        Assert.Contains("limit 40 offset 0", sql, StringComparison.Ordinal);
        var second = ScriptedModel.Reply(Context(prompt, (first.Calls[0].Arguments, "{}")), Tools);
        Assert.Contains("limit 40 offset 40", (string?)JsonNode.Parse(second.Calls[0].Arguments)?["sql"], StringComparison.Ordinal);
        var answer = ScriptedModel.Reply(Context(prompt, (first.Calls[0].Arguments, "{}"), (second.Calls[0].Arguments, "{}")), Tools);
        Assert.Empty(answer.Calls);
        Assert.Equal(1500, answer.Text!.Length);
        Assert.StartsWith("After 2 queries: ", answer.Text, StringComparison.Ordinal);
    }
}
