using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentWorker.Tests.Simulator;

/// <summary>The simulator speaks the Responses protocol: event order, sequence numbers, chaining, errors.</summary>
public sealed class SimulatorProtocolTests : IAsyncLifetime
{
    private static readonly string[] TextTurn =
    [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed",
    ];

    private static readonly string[] FunctionCallTurn =
    [
        "response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.output_item.done", "response.completed",
    ];

    private SimulatorHost _sim = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync() => _sim = await SimulatorHost.StartAsync();

    public async ValueTask DisposeAsync() => await _sim.DisposeAsync();

    private static JsonObject Create(string prompt, bool tools, string? previous = null, JsonArray? input = null)
    {
        var create = new JsonObject
        {
            ["type"] = "response.create",
            ["model"] = "sim-1",
            ["store"] = false,
            ["input"] = input ?? new JsonArray(new JsonObject
            {
                ["type"] = "message", ["role"] = "user",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = prompt }),
            }),
        };
        if (tools)
        {
            create["tools"] = new JsonArray(
                new JsonObject { ["type"] = "function", ["name"] = "list_tables", ["parameters"] = new JsonObject() },
                new JsonObject { ["type"] = "function", ["name"] = "query", ["parameters"] = new JsonObject() });
        }
        if (previous is not null)
        {
            create["previous_response_id"] = previous;
        }
        return create;
    }

    private async Task<ClientWebSocket> ConnectAsync(string key = SimulatorHost.ApiKey)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + key);
        socket.Options.CollectHttpResponseDetails = true;
        await socket.ConnectAsync(_sim.WebSocketUrl, TestContext.Current.CancellationToken);
        return socket;
    }

    private static async Task<List<JsonObject>> TurnAsync(ClientWebSocket socket, JsonObject create)
    {
        var ct = TestContext.Current.CancellationToken;
        await socket.SendAsync(Encoding.UTF8.GetBytes(create.ToJsonString()), WebSocketMessageType.Text, true, ct);
        var events = new List<JsonObject>();
        var buffer = new byte[1 << 20];
        while (true)
        {
            var count = 0;
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), ct);
                count += result.Count;
            }
            while (!result.EndOfMessage);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            var evt = (JsonObject)JsonNode.Parse(buffer.AsSpan(0, count))!;
            events.Add(evt);
            if ((string?)evt["type"] is "response.completed" or "response.failed" or "response.incomplete" or "error")
            {
                return events;
            }
        }
    }

    private static string[] Collapse(IEnumerable<JsonObject> events) =>
        events.Select(e => (string)e["type"]!).Aggregate(new List<string>(), (list, type) =>
        {
            if (list.Count == 0 || list[^1] != type || !type.EndsWith(".delta", StringComparison.Ordinal))
            {
                list.Add(type);
            }
            return list;
        }).ToArray();

    private static void AssertSequenceNumbersIncrease(List<JsonObject> events)
    {
        var numbers = events.Select(e => (long)e["sequence_number"]!).ToList();
        Assert.Equal(0, numbers[0]);
        Assert.True(numbers.Zip(numbers.Skip(1)).All(p => p.Second == p.First + 1), "sequence_number must increase by one");
    }

    [Fact]
    public async Task WebSocket_TextTurn_StreamsTheRealEventOrder()
    {
        using var socket = await ConnectAsync();

        var events = await TurnAsync(socket, Create("hello there", tools: false));

        Assert.Equal(TextTurn, Collapse(events));
        AssertSequenceNumbersIncrease(events);
        var completed = events[^1]["response"]!;
        Assert.Equal("completed", (string?)completed["status"]);
        Assert.Equal("You said: hello there", (string?)completed["output"]![0]!["content"]![0]!["text"]);
        Assert.True((int)completed["usage"]!["input_tokens"]! > 0);
        Assert.True((int)completed["usage"]!["output_tokens"]! > 0);
    }

    [Fact]
    public async Task WebSocket_ToolsOffered_CallsAFunctionWithStringArguments()
    {
        using var socket = await ConnectAsync();

        var events = await TurnAsync(socket, Create("How many customers?", tools: true));

        Assert.Equal(FunctionCallTurn, Collapse(events));
        AssertSequenceNumbersIncrease(events);
        var call = events[^1]["response"]!["output"]![0]!;
        Assert.Equal("function_call", (string?)call["type"]);
        Assert.Equal("list_tables", (string?)call["name"]);
        Assert.Equal("{}", call["arguments"]!.GetValue<string>());
        Assert.StartsWith("call_", (string?)call["call_id"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocket_PreviousResponseId_ContinuesWithOnlyNewItems()
    {
        using var socket = await ConnectAsync();
        var first = await TurnAsync(socket, Create("Run `select 1 as one`", tools: true));
        var firstResponse = first[^1]["response"]!;
        var callId = (string)firstResponse["output"]![0]!["call_id"]!;

        var second = await TurnAsync(socket, Create("", tools: true, previous: (string)firstResponse["id"]!, input: new JsonArray(
            new JsonObject { ["type"] = "function_call_output", ["call_id"] = callId, ["output"] = """{"columns":["one"],"rows":[[1]]}""" })));

        var completed = second[^1];
        Assert.Equal("response.completed", (string?)completed["type"]);
        Assert.Contains("returned 1 rows", (string?)completed["response"]!["output"]![0]!["content"]![0]!["text"], StringComparison.Ordinal);
        Assert.True((int)completed["response"]!["usage"]!["input_tokens_details"]!["cached_tokens"]! > 0, "a chained turn reuses the cached context");
    }

    [Fact]
    public async Task WebSocket_PreviousResponseFromAnotherConnection_IsNotFound()
    {
        using var first = await ConnectAsync();
        var events = await TurnAsync(first, Create("hello", tools: false));
        var id = (string)events[^1]["response"]!["id"]!;
        using var other = await ConnectAsync();

        var error = (await TurnAsync(other, Create("again", tools: false, previous: id)))[^1];

        Assert.Equal("error", (string?)error["type"]);
        Assert.Equal(400, (int)error["status"]!);
        Assert.Equal("previous_response_not_found", (string?)error["error"]!["code"]);
        Assert.Equal("previous_response_id", (string?)error["error"]!["param"]);
        // The socket stays usable for an unchained request.
        Assert.Equal("response.completed", (string?)(await TurnAsync(other, Create("fresh", tools: false)))[^1]["type"]);
    }

    [Fact]
    public async Task WebSocket_BadKey_IsRefusedWith401BeforeTheUpgrade()
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer wrong");
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(_sim.WebSocketUrl, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        socket.Dispose();
    }

    [Fact]
    public async Task Http_StreamTrue_SendsTheSameEventsAsServerSentEvents()
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorHost.ApiKey);
        var body = Create("How many customers?", tools: true);
        body.Remove("type");
        body["stream"] = true;

        using var response = await http.PostAsync(new Uri(_sim.BaseUrl + "/responses"),
            new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var records = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var events = records.Select(r =>
        {
            var lines = r.Split('\n');
            var evt = (JsonObject)JsonNode.Parse(lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..])!;
            Assert.Equal("event: " + (string?)evt["type"], lines[0]);
            return evt;
        }).ToList();
        Assert.Equal(FunctionCallTurn, Collapse(events));
        AssertSequenceNumbersIncrease(events);
    }

    [Fact]
    public async Task Http_Json_ReturnsTheResponseAndRefusesABadKey()
    {
        using var http = new HttpClient();
        var body = Create("hi", tools: false);
        body.Remove("type");
        var uri = new Uri(_sim.BaseUrl + "/responses");
        var ct = TestContext.Current.CancellationToken;

        using var refused = await http.PostAsync(uri, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorHost.ApiKey);
        using var ok = await http.PostAsync(uri, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("invalid_api_key", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync(ct))!["error"]!["code"]);
        var response = JsonNode.Parse(await ok.Content.ReadAsStringAsync(ct))!;
        Assert.Equal("response", (string?)response["object"]);
        Assert.Equal("You said: hi", (string?)response["output"]![0]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task FaultControl_Post_AnswersWithTheFaultAsReadAndWhatIsPending_AndRefusesABadSpec()
    {
        using var http = new HttpClient();
        var ct = TestContext.Current.CancellationToken;

        using var added = await http.PostAsync(new Uri(_sim.BaseUrl, "/sim/faults?spec=close:skip=1,close_code=1011"), null, ct);
        using var bad = await http.PostAsync(new Uri(_sim.BaseUrl, "/sim/faults?spec=explode"), null, ct);
        using var cleared = await http.DeleteAsync(new Uri(_sim.BaseUrl, "/sim/faults"), ct);

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var body = JsonNode.Parse(await added.Content.ReadAsStringAsync(ct))!;
        Assert.Equal("close", (string?)body["added"]!["kind"]);
        Assert.Equal(1011, (int)body["added"]!["close_code"]!);
        Assert.Single(body["pending"]!.AsArray());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.False(string.IsNullOrEmpty((string?)JsonNode.Parse(await bad.Content.ReadAsStringAsync(ct))!["detail"]));
        Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
    }

    /// <summary>The frames of one turn, raw, as the server sent them.</summary>
    private static async Task<List<byte[]>> RawTurnAsync(ClientWebSocket socket, JsonObject create)
    {
        var ct = TestContext.Current.CancellationToken;
        await socket.SendAsync(Encoding.UTF8.GetBytes(create.ToJsonString()), WebSocketMessageType.Text, true, ct);
        var frames = new List<byte[]>();
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var frame = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, ct);
                frame.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            frames.Add(frame.ToArray());
            if (Encoding.UTF8.GetString(frame.ToArray()).Contains("\"type\":\"response.completed\"", StringComparison.Ordinal))
            {
                return frames;
            }
        }
    }

    [Fact]
    public async Task WebSocket_WireCall_SendsHalfASurrogatePairAsAnEscapeOfTheEventItself()
    {
        using var socket = await ConnectAsync();

        var frames = await RawTurnAsync(socket, Create("""[wire_call:que\ud800ry]{"sql": "select '\udc00'"}[/wire_call]""", tools: true));

        var done = Encoding.UTF8.GetString(frames[^1]);
        // The event's own escapes, not the inner JSON's (which would read \\ud800 in the frame).
        Assert.Contains("""
            "name":"que\ud800ry"
            """.Trim(), done, StringComparison.Ordinal);
        Assert.Contains("""
            "arguments":"{\"sql\": \"select '\udc00'\"}"
            """.Trim(), done, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocket_OversizedFault_SendsOneEventOfThatSize_ThenTheResponseGoesOn()
    {
        var ct = TestContext.Current.CancellationToken;
        await SimulatorFaults.InjectAsync(_sim.BaseUrl, new { kind = "oversized", bytes = 3_000_000, after_events = 2 }, ct);
        using var socket = await ConnectAsync();

        var frames = await RawTurnAsync(socket, Create("hello", tools: false));

        Assert.Equal(3_000_000, frames[2].Length);
        Assert.Equal("response.output_text.delta", (string?)JsonNode.Parse(frames[2])!["type"]);
        Assert.Equal(TextTurn.Length + 1, Collapse(frames.Select(f => (JsonObject)JsonNode.Parse(f)!)).Length);
    }

    [Fact]
    public async Task Http_OversizedFault_SendsOneSseEventOfThatSize()
    {
        var ct = TestContext.Current.CancellationToken;
        await SimulatorFaults.InjectAsync(_sim.BaseUrl, new { kind = "oversized", bytes = 3_000_000, after_events = 1 }, ct);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorHost.ApiKey);
        var body = Create("hello", tools: false);
        body.Remove("type");
        body["stream"] = true;

        using var response = await http.PostAsync(new Uri(_sim.BaseUrl + "/responses"),
            new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);
        var records = (await response.Content.ReadAsStringAsync(ct)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        var big = records[1].Split('\n')[1];
        Assert.Equal("data: ".Length + 3_000_000, big.Length);
        Assert.EndsWith("response.completed", records[^1].Split('\n')[0], StringComparison.Ordinal);
    }
}
