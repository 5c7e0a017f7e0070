using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Tests.Llm;

public sealed class TurnAssemblerTests
{
    private static JsonObject Evt(string json) => (JsonObject)JsonNode.Parse(json)!;

    [Fact]
    public void Accept_CompletedWithoutOutput_RebuildsOutputFromItemDoneEvents()
    {
        var assembler = new TurnAssembler();

        Assert.Null(assembler.Accept(Evt("""{"type":"response.created","sequence_number":0,"response":{"id":"resp_1"}}""")));
        Assert.Null(assembler.Accept(Evt("""{"type":"response.output_item.done","sequence_number":1,"output_index":0,"item":{"type":"function_call","call_id":"c1","name":"query","arguments":"{}"}}""")));
        var done = assembler.Accept(Evt("""{"type":"response.completed","sequence_number":2,"response":{"id":"resp_1","usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1}}}}"""));

        Assert.NotNull(done);
        Assert.Equal("resp_1", done.Value.ResponseId);
        Assert.Equal("c1", Assert.Single(done.Value.Output).CallId);
        Assert.Equal(new TokenUsage(10, 4, 3, 1), done.Value.Usage);
    }

    [Fact]
    public void Accept_SequenceNumberGoesBack_IsAProtocolError()
    {
        var assembler = new TurnAssembler();
        assembler.Accept(Evt("""{"type":"response.created","sequence_number":5,"response":{"id":"r"}}"""));

        var error = Assert.Throws<ModelException>(() => assembler.Accept(Evt("""{"type":"response.in_progress","sequence_number":5}""")));

        Assert.Equal(ModelFailureKind.Protocol, error.Kind);
        Assert.True(error.IsRecoverableOnFreshSocket);
    }

    [Theory]
    [InlineData("""{"type":"error","status":400,"error":{"type":"invalid_request_error","code":"previous_response_not_found","message":"gone"}}""", ModelFailureKind.PreviousResponseNotFound, true)]
    [InlineData("""{"type":"error","status":400,"error":{"type":"invalid_request_error","code":"websocket_connection_limit_reached","message":"60 min"}}""", ModelFailureKind.ConnectionLimit, true)]
    [InlineData("""{"type":"error","status":429,"error":{"type":"tokens","code":"rate_limit_exceeded","message":"slow down"}}""", ModelFailureKind.RateLimited, false)]
    [InlineData("""{"type":"error","status":500,"error":{"type":"server_error","code":"boom","message":"oops"}}""", ModelFailureKind.ServerError, false)]
    [InlineData("""{"type":"error","status":400,"error":{"type":"invalid_request_error","code":"invalid_value","message":"bad"}}""", ModelFailureKind.BadRequest, false)]
    [InlineData("""{"type":"error","code":"server_error","message":"flat shape","sequence_number":3}""", ModelFailureKind.ServerError, false)]
    [InlineData("""{"type":"response.failed","sequence_number":1,"response":{"id":"r","error":{"code":"rate_limit_exceeded","message":"x"}}}""", ModelFailureKind.RateLimited, false)]
    public void Accept_ErrorEvents_MapToAFailureKind(string json, ModelFailureKind kind, bool recoverable)
    {
        var error = Assert.Throws<ModelException>(() => new TurnAssembler().Accept(Evt(json)));

        Assert.Equal(kind, error.Kind);
        Assert.Equal(recoverable, error.IsRecoverableOnFreshSocket);
    }

    [Theory]
    [InlineData("""{"type":5}""")]
    [InlineData("""{"sequence_number":1}""")]
    public void Accept_AnEventWithoutAStringType_IsAProtocolError(string json)
    {
        var error = Assert.Throws<ModelException>(() => new TurnAssembler().Accept(Evt(json)));

        Assert.Equal(ModelFailureKind.Protocol, error.Kind);
    }

    [Fact]
    public void Accept_ErrorFieldsOfTheWrongType_StillMapToAFailure()
    {
        var error = Assert.Throws<ModelException>(() => new TurnAssembler().Accept(Evt("""{"type":"error","status":400,"error":{"code":7,"message":{"a":1}}}""")));

        Assert.Equal(ModelFailureKind.BadRequest, error.Kind);
        Assert.Null(error.Code);
    }

    [Fact]
    public void Accept_OutputItemsOverTheCapInAll_FailTheTurnAsTooLarge()
    {
        var assembler = new TurnAssembler(0, maxOutputBytes: 1000);
        var item = """{"type":"response.output_item.done","output_index":0,"item":{"type":"message"}}""";
        assembler.Accept(Evt(item), bytes: 600);

        var error = Assert.Throws<ModelException>(() => assembler.Accept(Evt(item.Replace("\"output_index\":0", "\"output_index\":1", StringComparison.Ordinal)), bytes: 600));

        Assert.Equal(ModelFailureKind.MessageTooLarge, error.Kind);
    }
}
