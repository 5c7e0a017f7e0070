using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Tests.Simulator;

/// <summary>What the real server refuses or adds, played by the simulator in reasoning mode: the worker is tested against it.</summary>
public sealed class SimulatorRealServerTests : IAsyncLifetime
{
    private SimulatorHost _sim = null!; // Set in InitializeAsync.
    private HttpClient _http = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync()
    {
        _sim = await SimulatorHost.StartAsync("--Simulator:Reasoning=true");
        _http = new HttpClient();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorHost.ApiKey);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    private static JsonObject UserMessage(string text) => new()
    {
        ["type"] = "message", ["role"] = "user",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
    };

    private static JsonObject Request(JsonArray input, bool include, JsonObject? parameters = null) => new()
    {
        ["model"] = "sim-1",
        ["store"] = false,
        ["include"] = include ? new JsonArray("reasoning.encrypted_content") : new JsonArray(),
        ["tools"] = new JsonArray(new JsonObject
        {
            ["type"] = "function", ["name"] = "query", ["strict"] = true,
            ["parameters"] = parameters ?? new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["sql"] = new JsonObject { ["type"] = "string" } },
                ["required"] = new JsonArray("sql"),
                ["additionalProperties"] = false,
            },
        }),
        ["input"] = input,
    };

    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(JsonObject request)
    {
        using var response = await _http.PostAsJsonAsync(new Uri(_sim.BaseUrl + "/responses"), request, TestContext.Current.CancellationToken);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken))!);
    }

    [Fact]
    public async Task Reasoning_EncryptedContentComesOnlyWhenIncluded_AndReasoningTokensAreCounted()
    {
        var (plainStatus, plain) = await PostAsync(Request([UserMessage("Run `select 1 as one`")], include: false));
        var (status, body) = await PostAsync(Request([UserMessage("Run `select 1 as one`")], include: true));

        Assert.Equal(HttpStatusCode.OK, plainStatus);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("reasoning", (string?)plain["output"]![0]!["type"]);
        Assert.Null(plain["output"]![0]!["encrypted_content"]);
        Assert.StartsWith("gAAAA", (string?)body["output"]![0]!["encrypted_content"], StringComparison.Ordinal);
        Assert.True((int)body["usage"]!["output_tokens_details"]!["reasoning_tokens"]! > 0);
        Assert.Equal("function_call", (string?)body["output"]![1]!["type"]);
    }

    [Fact]
    public async Task Reasoning_ReplayedWithoutItsEncryptedContent_IsRefusedWithTheReal404()
    {
        var (_, first) = await PostAsync(Request([UserMessage("Run `select 1 as one`")], include: true));
        var reasoning = (JsonObject)first["output"]![0]!;
        var call = (JsonObject)first["output"]![1]!;
        var output = new JsonObject { ["type"] = "function_call_output", ["call_id"] = call["call_id"]!.DeepClone(), ["output"] = "{\"rows\":[[1]]}" };
        var stripped = (JsonObject)reasoning.DeepClone();
        stripped.Remove("encrypted_content");

        var (refusedStatus, refused) = await PostAsync(Request([UserMessage("Run `select 1 as one`"), stripped, call.DeepClone(), output.DeepClone()], include: true));
        var (acceptedStatus, _) = await PostAsync(Request([UserMessage("Run `select 1 as one`"), reasoning.DeepClone(), call.DeepClone(), output.DeepClone()], include: true));

        Assert.Equal(HttpStatusCode.NotFound, refusedStatus);
        Assert.Contains($"Item with id '{reasoning["id"]}' not found", (string?)refused["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, acceptedStatus);
    }

    [Fact]
    public async Task StrictSchema_WithAKeywordOutsideTheSubset_IsRefusedNamingIt()
    {
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["sql"] = new JsonObject { ["type"] = "string", ["maxLength"] = 200 } },
            ["required"] = new JsonArray("sql"),
            ["additionalProperties"] = false,
        };

        var (status, body) = await PostAsync(Request([UserMessage("hi")], include: true, schema));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'maxLength' is not permitted", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains("'sql'", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task FunctionCall_LeftWithoutItsOutput_IsRefused()
    {
        var (_, first) = await PostAsync(Request([UserMessage("Run `select 1 as one`")], include: true));
        var call = (JsonObject)first["output"]![1]!;

        var (status, body) = await PostAsync(Request([UserMessage("Run `select 1 as one`"), first["output"]![0]!.DeepClone(), call.DeepClone()], include: true));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($"No tool output found for function call {call["call_id"]}", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }
}
