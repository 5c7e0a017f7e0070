using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Agent;

/// <summary>
/// The loop on the model port's <see cref="IChatClient"/> implementation, with a plain fake chat client: a tool loop
/// (the model asks for a call, then answers), what each turn sends (the whole history, the tools) and what is stored.
/// </summary>
public sealed class AgentLoopChatClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly LlmOptions s_llm = new()
    {
        Model = "chat-1", RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5),
    };

    private static AgentLoop Loop(IChatClient client, IAgentTool tool) => new(
        new ChatClientModel("chat-1", client, new TurnRetries(new ModelWaits(TimeProvider.System), Options.Create(s_llm),
            TimeProvider.System, NullLogger<TurnRetries>.Instance)),
        new ToolRegistry([tool]),
        Options.Create(s_llm),
        Options.Create(new AgentOptions { DefaultInstructions = "Answer from the data." }),
        TimeProvider.System);

    private static AgentTask Task(string prompt = "How many orders?", int lastSeq = 0) =>
        new() { Id = 7, Prompt = prompt, MaxSteps = 5, Attempt = 1, LastSeq = lastSeq };

    private static ChatResponse Calls(string responseId, params FunctionCallContent[] calls) =>
        new(new ChatMessage(ChatRole.Assistant, [.. calls])) { ResponseId = responseId, ModelId = "chat-1-2026", Usage = Usage(100, 10) };

    private static ChatResponse Answer(string responseId, string text) =>
        new(new ChatMessage(ChatRole.Assistant, text)) { ResponseId = responseId, Usage = Usage(150, 5) };

    private static UsageDetails Usage(long input, long output) =>
        new() { InputTokenCount = input, OutputTokenCount = output, CachedInputTokenCount = 40, ReasoningTokenCount = 2 };

    private static FunctionCallContent Call(string id, string sql) =>
        new(id, "query", new Dictionary<string, object?> { ["sql"] = sql });

    [Fact]
    public async Task RunAsync_ToolLoop_SendsTheWholeHistoryAndTheToolsEachTurn_AndStoresEveryStep()
    {
        var client = new FakeChatClient(Calls("resp_1", Call("call_1", "select count(*) from orders")), Answer("resp_2", "There are 42 orders."));
        var tool = new FakeTool("""{"rows":[[42]]}""");
        var sink = new ListSink();

        var outcome = await Loop(client, tool).RunAsync(Task(), Checkpoint.Empty, sink, Ct);

        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        Assert.Equal("There are 42 orders.", outcome.ResultText);
        Assert.Equal(["select count(*) from orders"], tool.Seen);

        // Turn 1: the prompt alone, with the instructions, the model and the tools (strict) as declarations.
        var (first, options) = client.Turns[0];
        Assert.Equal([ChatRole.User], first.Select(m => m.Role));
        Assert.Equal("How many orders?", first[0].Text);
        Assert.Equal("chat-1", options!.ModelId);
        Assert.Equal("Answer from the data.", options.Instructions);
        var declaration = Assert.IsAssignableFrom<AIFunctionDeclaration>(Assert.Single(options.Tools!));
        Assert.Equal("query", declaration.Name);
        Assert.Equal(true, declaration.AdditionalProperties["strict"]);
        Assert.Equal("string", declaration.JsonSchema.GetProperty("properties").GetProperty("sql").GetProperty("type").GetString());

        // Turn 2: everything again (nothing chained): the prompt, the model's call, the call's result.
        var (second, _) = client.Turns[1];
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool], second.Select(m => m.Role));
        var call = Assert.IsType<FunctionCallContent>(Assert.Single(second[1].Contents));
        Assert.Equal(("call_1", "query"), (call.CallId, call.Name));
        Assert.Equal("select count(*) from orders", call.Arguments!["sql"]?.ToString());
        var result = Assert.IsType<FunctionResultContent>(Assert.Single(second[2].Contents));
        Assert.Equal(("call_1", """{"rows":[[42]]}"""), (result.CallId, result.Result as string));

        // Stored: model, tool, model, with the response ids and usage; no socket, nothing chained.
        Assert.Equal([StepKinds.Model, StepKinds.Tool, StepKinds.Model], sink.Steps.Select(s => s.Kind));
        Assert.Equal([1, 2, 3], sink.Steps.Select(s => s.Seq));
        var turn = sink.Steps[0];
        Assert.Equal(("resp_1", 100L, 10L, 40L, 2L), (turn.ResponseId, turn.InputTokens, turn.OutputTokens, turn.CachedTokens, turn.ReasoningTokens));
        Assert.Equal((null, null, false, 1), (turn.Transport, turn.SocketId, turn.Chained, turn.Attempts));
        var stored = JsonNode.Parse(turn.Items)!.AsArray().Single()!;
        Assert.Equal(("function_call", "call_1", "query"), ((string?)stored["type"], (string?)stored["call_id"], (string?)stored["name"]));
        Assert.Equal("select count(*) from orders", JsonNode.Parse((string)stored["arguments"]!)!["sql"]!.GetValue<string>());
        Assert.Equal(("query", "call_1"), (sink.Steps[1].ToolName, sink.Steps[1].CallId));
        Assert.Equal("resp_2", sink.Steps[2].ResponseId);
    }

    [Fact]
    public async Task RunAsync_ResumedFromStoredSteps_SendsTheStoredHistoryInFull()
    {
        var first = new ListSink();
        var interrupted = new FakeChatClient(Calls("resp_1", Call("call_1", "select 1"), Call("call_2", "select 2")));
        // The run stops after the first turn and the first call (its next turn has nothing to answer with).
        await Assert.ThrowsAnyAsync<Exception>(() => Loop(interrupted, new FakeTool("one")).RunAsync(Task(), Checkpoint.Empty, first, Ct));
        var checkpoint = first.Steps.Take(2).Select(s => new CheckpointStep(s.Seq, s.Kind, s.Items)).ToList();
        var client = new FakeChatClient(Answer("resp_3", "done"));
        var tool = new FakeTool("two");
        var sink = new ListSink();

        var outcome = await Loop(client, tool).RunAsync(Task(lastSeq: 2), new Checkpoint(checkpoint, []), sink, Ct);

        Assert.Equal(("done", 2), (outcome.ResultText, checkpoint.Count));
        Assert.Equal(["select 2"], tool.Seen); // only the call without a stored output runs again
        var (messages, _) = Assert.Single(client.Turns);
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool], messages.Select(m => m.Role));
        Assert.Equal(["call_1", "call_2"], messages[1].Contents.OfType<FunctionCallContent>().Select(c => c.CallId));
        Assert.Equal(["call_1", "call_2"], messages[2].Contents.OfType<FunctionResultContent>().Select(c => c.CallId));
        Assert.Equal([3, 4], sink.Steps.Select(s => s.Seq));
    }

    [Fact]
    public async Task RunAsync_RateLimitedOnce_RetriesTheTurn_AndRecordsIt()
    {
        var client = new FakeChatClient(
            new HttpRequestException("Too Many Requests", null, HttpStatusCode.TooManyRequests), Answer("resp_1", "ok"));
        var sink = new ListSink();

        var outcome = await Loop(client, new FakeTool("x")).RunAsync(Task(), Checkpoint.Empty, sink, Ct);

        Assert.Equal("ok", outcome.ResultText);
        Assert.Equal(2, client.Turns.Count);
        Assert.Equal((2, "retried after a wait"), (sink.Steps[0].Attempts, sink.Steps[0].Recovery));
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, ModelFailureKind.RateLimited, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, ModelFailureKind.ServerError, true)]
    [InlineData(HttpStatusCode.RequestTimeout, ModelFailureKind.ServerError, true)]
    [InlineData(HttpStatusCode.Unauthorized, ModelFailureKind.HandshakeRefused, false)]
    [InlineData(HttpStatusCode.BadRequest, ModelFailureKind.BadRequest, false)]
    public void ToModelException_HttpStatus_MapsToTheFailureKind(HttpStatusCode status, ModelFailureKind kind, bool transient)
    {
        var failure = ChatClientFailures.ToModelException(new HttpRequestException("refused", null, status), "m", CancellationToken.None);

        Assert.Equal((kind, transient, (int)status), (failure!.Kind, failure.IsTransient, failure.Status));
    }

    [Fact]
    public void ToModelException_TimeoutAndCancellation_TimeoutIsTransient_OurCancellationPropagates()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.True(ChatClientFailures.ToModelException(new TaskCanceledException("timeout"), "m", CancellationToken.None)!.IsTransient);
        Assert.True(ChatClientFailures.ToModelException(new TimeoutException(), "m", CancellationToken.None)!.IsTransient);
        Assert.Null(ChatClientFailures.ToModelException(new OperationCanceledException(cancelled.Token), "m", cancelled.Token));
        Assert.Equal(ModelFailureKind.ConnectionLost,
            ChatClientFailures.ToModelException(new HttpRequestException("no route"), "m", CancellationToken.None)!.Kind);
    }

    /// <summary>Answers each turn with the next scripted response (or throws the next scripted exception); records what it got.</summary>
    private sealed class FakeChatClient(params object[] script) : IChatClient
    {
        private int _next;

        public List<(List<ChatMessage> Messages, ChatOptions? Options)> Turns { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            // A copy of each message: the caller's list (and its messages) are its own, later turns may grow them.
            Turns.Add(([.. messages.Select(m => new ChatMessage(m.Role, [.. m.Contents]))], options));
            if (_next >= script.Length)
            {
                throw new InvalidOperationException("The script has no more turns.");
            }
            return script[_next++] switch
            {
                ChatResponse response => System.Threading.Tasks.Task.FromResult(response),
                Exception ex => System.Threading.Tasks.Task.FromException<ChatResponse>(ex),
                var other => throw new InvalidOperationException($"Not a turn: {other}"),
            };
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("fake", new Uri("http://fake.test/v1")) : null;

        public void Dispose()
        {
        }
    }

    /// <summary>A <c>query</c> tool that answers one text and records the SQL it was given.</summary>
    private sealed class FakeTool(string answer) : IAgentTool
    {
        public List<string> Seen { get; } = [];

        public string Name => "query";

        public string Description => "Runs one read-only SQL statement.";

        public JsonObject Parameters { get; } = (JsonObject)JsonNode.Parse("""
            {"type":"object","properties":{"sql":{"type":"string","maxLength":10000}},"required":["sql"],"additionalProperties":false}
            """)!;

        public Task<ToolResult> InvokeAsync(JsonElement arguments, CancellationToken cancellationToken)
        {
            Seen.Add(arguments.GetProperty("sql").GetString()!);
            return System.Threading.Tasks.Task.FromResult(new ToolResult(answer, IsError: false, RowCount: 1));
        }
    }

    private sealed class ListSink : IStepSink
    {
        public List<StepRecord> Steps { get; } = [];

        public Task SaveAsync(StepRecord record, CancellationToken cancellationToken)
        {
            Steps.Add(record);
            return System.Threading.Tasks.Task.CompletedTask;
        }

        public Task StartCallAsync(CallStart start, CancellationToken cancellationToken) => System.Threading.Tasks.Task.CompletedTask;
    }
}
