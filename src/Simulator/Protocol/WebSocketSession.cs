using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Simulator.Protocol;

/// <summary>
/// One client socket: requests are served one at a time, in order; the last completed response is cached so the
/// next request may continue it with <c>previous_response_id</c>. Another id, or any failure, clears the cache.
/// </summary>
internal sealed class WebSocketSession(WebSocket socket, SimulatorOptions options, SimulatorStatistics statistics, TimeProvider time)
{
    private readonly string _connectionId = ResponseEvents.NewId("conn");
    private readonly DateTimeOffset _openedAt = time.GetUtcNow();
    private (string Id, List<JsonObject> Context)? _last;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (socket.State == WebSocketState.Open)
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

        var previousId = (string?)request["previous_response_id"];
        List<JsonObject>? previous = null;
        if (previousId is not null)
        {
            if (_last is not { } last || last.Id != previousId)
            {
                _last = null;
                await SendAsync(SimulatorErrors.PreviousResponseNotFound(previousId), cancellationToken);
                return;
            }
            previous = last.Context;
        }
        var (prepared, error) = ResponseEngine.Prepare(request, previous);
        if (prepared is null)
        {
            _last = null; // a failed continuation evicts the cached parent
            var envelope = error!; // Prepare returns an error whenever it returns no response.
            envelope["type"] = "error";
            envelope["status"] = 400;
            await SendAsync(envelope, cancellationToken);
            return;
        }
        statistics.ResponseStarted(new RequestRecord("ws", _connectionId, previousId, (request["input"] as JsonArray)?.Count ?? 1, prepared.Id));
        var pacer = new Pacer(options, cancellationToken);
        await foreach (var evt in ResponseEvents.StreamAsync(prepared.Id, request, prepared.Output, prepared.Usage, pacer.PaceAsync))
        {
            await SendAsync(evt, cancellationToken);
        }
        _last = (prepared.Id, prepared.Context);
    }

    private Task SendAsync(JsonObject evt, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(evt), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
}
