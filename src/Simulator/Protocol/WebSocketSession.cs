using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentWorker.Simulator.Faults;

namespace AgentWorker.Simulator.Protocol;

/// <summary>
/// One client socket: requests are served one at a time, in order; the last completed response is cached so the
/// next request may continue it with <c>previous_response_id</c>. Another id, or any failure, clears the cache.
/// </summary>
internal sealed class WebSocketSession(
    WebSocket socket, SimulatorOptions options, SimulatorStatistics statistics, FaultInjector faults, TimeProvider time)
{
    /// <summary>A delta whose text holds 0xFF, which no UTF-8 sequence contains.</summary>
    private static readonly byte[] s_invalidUtf8 =
        [.. "{\"type\":\"response.output_text.delta\",\"item_id\":\"x\",\"output_index\":0,\"delta\":\"a"u8, 0xFF, .. "b\"}"u8];

    private readonly string _connectionId = ResponseEvents.NewId("conn");
    private readonly DateTimeOffset _openedAt = time.GetUtcNow();
    private (string Id, List<JsonObject> Context, long Epoch)? _last;

    /// <summary>Set when a fault ended the connection: the session stops reading.</summary>
    private bool _ended;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (socket.State == WebSocketState.Open && !_ended)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(8 * 1024), cancellationToken);
                buffer.Advance(result.Count);
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
                return;
            }
            if (result.MessageType == WebSocketMessageType.Binary)
            {
                await SendAsync(SimulatorErrors.WebSocketEvent(400, "invalid_request_error", "invalid_frame",
                    "Binary frames are not supported; send JSON text frames."), cancellationToken);
                continue;
            }
            JsonObject? request;
            try
            {
                request = JsonNode.Parse(buffer.WrittenSpan) as JsonObject;
            }
            catch (JsonException)
            {
                request = null;
            }
            if (request is null)
            {
                await SendAsync(SimulatorErrors.WebSocketEvent(400, "invalid_request_error", "invalid_json",
                    "The frame is not a JSON object."), cancellationToken);
                continue;
            }
            await HandleAsync(request, cancellationToken);
        }
    }

    private async Task HandleAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var type = (string?)request["type"];
        if (type != "response.create")
        {
            await SendAsync(SimulatorErrors.WebSocketEvent(400, "invalid_request_error", "unknown_event_type",
                $"Unsupported event type '{type}'. Supported: response.create.", "type"), cancellationToken);
            return;
        }
        if (time.GetUtcNow() - _openedAt >= options.MaxConnectionAge)
        {
            await SendAsync(SimulatorErrors.WebSocketEvent(400, "invalid_request_error", "websocket_connection_limit_reached",
                $"Responses websocket connection limit reached ({options.MaxConnectionAge.TotalMinutes:F0} minutes). "
                + "Create a new websocket connection to continue."), cancellationToken);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "connection limit reached", cancellationToken);
            return;
        }

        var fault = faults.TakeResponseFault();
        if (await RefuseAsync(fault, cancellationToken))
        {
            return;
        }
        if (fault?.Kind == "forget")
        {
            _last = null;
        }

        var previousId = (string?)request["previous_response_id"];
        List<JsonObject>? previous = null;
        if (previousId is not null)
        {
            if (_last is not { } last || last.Id != previousId || last.Epoch != faults.Epoch)
            {
                _last = null;
                await SendAsync(SimulatorErrors.PreviousResponseNotFound(previousId), cancellationToken);
                return;
            }
            previous = last.Context;
        }
        var (prepared, error, status) = ResponseEngine.Prepare(request, previous, options);
        if (prepared is null)
        {
            _last = null; // a failed continuation evicts the cached parent
            var envelope = error!; // Prepare returns an error whenever it returns no response.
            envelope["type"] = "error";
            envelope["status"] = status;
            await SendAsync(envelope, cancellationToken);
            return;
        }
        statistics.ResponseStarted(new RequestRecord("ws", _connectionId, previousId, (request["input"] as JsonArray)?.Count ?? 1, prepared.Id));
        using var inFlight = statistics.InFlight((string?)request["model"] ?? "");
        var pacer = Pacer.For(options, prepared.Usage, fault?.Kind == "slow" ? fault.DelayMs : 0, cancellationToken);
        var sent = 0;
        await foreach (var evt in ResponseEvents.StreamAsync(prepared.Id, request, prepared.Output, prepared.Usage, pacer.PaceAsync))
        {
            if (fault is not null && sent == fault.AfterEvents && await BreakStreamAsync(fault, evt, cancellationToken))
            {
                _last = null;
                return;
            }
            if (fault?.Kind == "oversized" && sent == fault.AfterEvents)
            {
                await OversizedEvent.WriteAsync(fault.Bytes, (piece, last) =>
                    socket.SendAsync(piece, WebSocketMessageType.Text, last, cancellationToken).AsTask());
            }
            await SendAsync(evt, cancellationToken, prepared.UnpairedSurrogates);
            sent++;
        }
        _last = (prepared.Id, prepared.Context, faults.Epoch);
    }

    /// <summary>Faults that refuse the request before any event. Returns whether the request was refused.</summary>
    private async Task<bool> RefuseAsync(FaultSpec? fault, CancellationToken cancellationToken)
    {
        switch (fault?.Kind)
        {
            case "rate_limit":
                var wait = Math.Max(fault.RetryAfterMs, 1);
                var limited = SimulatorErrors.WebSocketEvent(429, "requests", "rate_limit_exceeded",
                    $"Rate limit reached for requests. Please try again in {wait}ms.");
                limited["headers"] = new JsonObject { ["retry-after-ms"] = wait.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                _last = null; // a failed continuation evicts the cached parent
                await SendAsync(limited, cancellationToken);
                return true;
            case "server_error":
                _last = null;
                await SendAsync(SimulatorErrors.WebSocketEvent(500, "server_error", "server_error",
                    "The server had an error while processing your request."), cancellationToken);
                return true;
            case "connection_limit":
                await SendAsync(SimulatorErrors.WebSocketEvent(400, "invalid_request_error", "websocket_connection_limit_reached",
                    "Responses websocket connection limit reached (60 minutes). Create a new websocket connection to continue."),
                    cancellationToken);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "connection limit reached", cancellationToken);
                _ended = true;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Faults that break a response mid-stream, in place of <paramref name="next"/>. Returns whether the response ended.</summary>
    private async Task<bool> BreakStreamAsync(FaultSpec fault, JsonObject next, CancellationToken cancellationToken)
    {
        switch (fault.Kind)
        {
            case "drop":
                socket.Abort();
                _ended = true;
                return true;
            case "close":
                await socket.CloseOutputAsync((WebSocketCloseStatus)fault.CloseCode, "simulated close", cancellationToken);
                _ended = true;
                return true;
            case "malformed":
                await socket.SendAsync("{\"type\": \"response.output_text.delta\", oops"u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
                return true;
            case "binary":
                await socket.SendAsync(new byte[] { 0x00, 0xFF, 0x10 }, WebSocketMessageType.Binary, true, cancellationToken);
                return true;
            case "invalid_utf8":
                await socket.SendAsync(s_invalidUtf8, WebSocketMessageType.Text, true, cancellationToken);
                return false; // the response goes on
            case "failed":
                var response = next["response"]?.DeepClone() as JsonObject ?? new JsonObject();
                response["status"] = "failed";
                response["error"] = new JsonObject { ["code"] = "server_error", ["message"] = "The model failed to produce a response." };
                await SendAsync(new JsonObject
                {
                    ["type"] = "response.failed",
                    ["sequence_number"] = next["sequence_number"]?.DeepClone(),
                    ["response"] = response,
                }, cancellationToken);
                return true;
            default:
                return false; // not a stream fault (forget was applied before the response)
        }
    }

    private Task SendAsync(JsonObject evt, CancellationToken cancellationToken, bool unpairedSurrogates = false) =>
        socket.SendAsync(WireJson.Serialize(evt, unpairedSurrogates), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
}
