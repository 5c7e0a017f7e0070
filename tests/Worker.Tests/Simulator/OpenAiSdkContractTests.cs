#pragma warning disable OPENAI001 // The Responses client of the official SDK is marked experimental.
using System.ClientModel;
using OpenAI.Responses;

namespace AgentWorker.Tests.Simulator;

/// <summary>
/// The official OpenAI .NET SDK drives the simulator through a full tool loop over HTTP, streaming and not, against a
/// reasoning model with <c>store:false</c>: the simulator stays faithful to a client nobody here wrote (its strict
/// parsing of response objects and events, its request shapes).
/// </summary>
public sealed class OpenAiSdkContractTests : IAsyncLifetime
{
    private const string Schema = """
        {"type":"object","properties":{"sql":{"type":"string","description":"one SQL statement"}},"required":["sql"],"additionalProperties":false}
        """;

    private SimulatorHost _sim = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync() => _sim = await SimulatorHost.StartAsync("--Simulator:Reasoning=true");

    public async ValueTask DisposeAsync() => await _sim.DisposeAsync();

    private ResponsesClient Client() =>
        new(new ApiKeyCredential(SimulatorHost.ApiKey), new ResponsesClientOptions { Endpoint = _sim.BaseUrl });

    private static CreateResponseOptions Options(List<ResponseItem> items)
    {
        var options = new CreateResponseOptions("sim-1", items)
        {
            StoredOutputEnabled = false,
            Instructions = "Answer with data from the database.",
            ParallelToolCallsEnabled = true,
            ReasoningOptions = new ResponseReasoningOptions { ReasoningEffortLevel = ResponseReasoningEffortLevel.Low },
            MaxOutputTokenCount = 2000,
        };
        options.IncludedProperties.Add(IncludedResponseProperty.ReasoningEncryptedContent);
        options.Tools.Add(ResponseTool.CreateFunctionTool("query", BinaryData.FromString(Schema), true, "Runs one read-only SQL statement."));
        return options;
    }

    /// <summary>
    /// The loop a client writes with <c>store:false</c>: every turn resends the whole conversation, its reasoning items
    /// replayed with their encrypted content, until a turn calls no tool.
    /// </summary>
    private static async Task<(ResponseResult Last, List<ResponseItem> Items)> ToolLoopAsync(
        Func<CreateResponseOptions, Task<ResponseResult>> turn)
    {
        var items = new List<ResponseItem> { ResponseItem.CreateUserMessageItem("Run `select 1 as one` and `select 2 as two`") };
        for (var i = 0; i < 5; i++)
        {
            var response = await turn(Options(items));
            items.AddRange(response.OutputItems);
            var calls = response.OutputItems.OfType<FunctionCallResponseItem>().ToList();
            if (calls.Count == 0)
            {
                return (response, items);
            }
            foreach (var call in calls)
            {
                var sql = System.Text.Json.JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("sql").GetString();
                var value = sql!.Contains('2', StringComparison.Ordinal) ? 2 : 1;
                items.Add(ResponseItem.CreateFunctionCallOutputItem(call.CallId, $$"""{"columns":["n"],"rows":[[{{value}}]]}"""));
            }
        }
        throw new InvalidOperationException("the loop did not end in 5 turns");
    }

    private static void AssertConversation(ResponseResult last, List<ResponseItem> items)
    {
        Assert.Equal(ResponseStatus.Completed, last.Status);
        Assert.Equal("sim-1", last.Model);
        Assert.Contains("select 1 as one", last.GetOutputText(), StringComparison.Ordinal);
        Assert.Contains("select 2 as two", last.GetOutputText(), StringComparison.Ordinal);
        Assert.True(last.Usage.OutputTokenDetails.ReasoningTokenCount > 0);
        Assert.Equal(2, items.OfType<FunctionCallResponseItem>().Count());
        Assert.All(items.OfType<ReasoningResponseItem>(), r => Assert.False(string.IsNullOrEmpty(r.EncryptedContent)));
        Assert.Equal(2, items.OfType<ReasoningResponseItem>().Count());
    }

    [Fact]
    public async Task Json_ToolLoop_CompletesWithTheAnswer()
    {
        var client = Client();

        var (last, items) = await ToolLoopAsync(async options =>
            (await client.CreateResponseAsync(options, TestContext.Current.CancellationToken)).Value);

        AssertConversation(last, items);
        Assert.Single(last.Tools);
    }

    [Fact]
    public async Task Streaming_ToolLoop_CompletesWithTheAnswer_AndEveryItemIsAnnouncedDone()
    {
        var client = Client();
        var done = 0;

        var (last, items) = await ToolLoopAsync(async options =>
        {
            ResponseResult? completed = null;
            options.StreamingEnabled = true;
            await foreach (var update in await client.CreateResponseStreamingAsync(options, TestContext.Current.CancellationToken))
            {
                switch (update)
                {
                    case StreamingResponseOutputItemDoneUpdate:
                        done++;
                        break;
                    case StreamingResponseCompletedUpdate end:
                        completed = end.Response;
                        break;
                }
            }
            return completed ?? throw new InvalidOperationException("no response.completed");
        });

        AssertConversation(last, items);
        Assert.Equal(items.Count - 1 - 2, done); // every output item: all items but the prompt and the two call outputs
    }
}
