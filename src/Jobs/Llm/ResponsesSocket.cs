using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// One WebSocket to the Responses API. One turn at a time: the lease holder sends a <c>response.create</c>
/// and is the only reader until the turn's terminal event. Any failure that leaves the stream in an unknown
/// state marks the socket broken; the pool then discards it.
/// </summary>
internal sealed class ResponsesSocket : IModelSocket
{
    private static long s_nextId;
    private readonly ClientWebSocket _socket;
    private readonly LlmOptions _options;
    private readonly TimeProvider _time;
    private const int InitialBufferBytes = 16 * 1024;

    /// <summary>Above this, a message's buffer is let go once it is parsed: an idle pooled socket keeps no more.</summary>
    private const int RetainedBufferBytes = 1024 * 1024;

    private byte[] _receiveBuffer = new byte[InitialBufferBytes];

    private ResponsesSocket(ClientWebSocket socket, LlmOptions options, TimeProvider time)
    {
        _socket = socket;
        _options = options;
        _time = time;
        Id = "ws-" + Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        CreatedAt = time.GetUtcNow();
    }

    public string Id { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>Turns completed on this socket.</summary>
    public int TurnCount { get; private set; }

    /// <summary>The last response this socket completed: the only one the server can continue on it.</summary>
    public string? LastResponseId { get; private set; }

    public bool IsBroken { get; private set; }

    public bool IsOpen => !IsBroken && _socket.State == WebSocketState.Open;

    public static async Task<ResponsesSocket> ConnectAsync(LlmOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = options.KeepAliveInterval;
        socket.Options.KeepAliveTimeout = options.KeepAliveInterval * 2;
        socket.Options.CollectHttpResponseDetails = true;
        if (options.ResolveApiKey() is { Length: > 0 } key)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + key);
        }
        foreach (var (name, value) in options.Headers)
        {
            socket.Options.SetRequestHeader(name, value);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(options.ResponsesWebSocketUri(), timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var status = (int)socket.HttpStatusCode;
            TimeSpan? retryAfter = null;
            if (socket.HttpResponseHeaders is { } headers && headers.TryGetValue("Retry-After", out var values)
                && double.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            {
                retryAfter = TimeSpan.FromSeconds(seconds);
            }
            socket.Dispose();
            // Refused upgrades other than auth and rate limits (404, 5xx, a proxy's 400 ...) count as "cannot connect":
            // they open the WebSocket breaker and fall back to HTTP.
            var kind = status is 401 or 403 ? ModelFailureKind.HandshakeRefused
                : status == 429 ? ModelFailureKind.RateLimited
                : ModelFailureKind.ConnectionLost;
            var what = status > 0 ? $"HTTP {status}" : ex.Message;
            throw new ModelException(kind,
                $"WebSocket handshake to {options.ResponsesWebSocketUri()} failed: {what}. Check Llm:BaseUrl and Llm:ApiKey.",
                status: status > 0 ? status : null, inner: ex, retryAfter: retryAfter);
        }
        return new ResponsesSocket(socket, options, time);
    }

    /// <summary>Sends one <c>response.create</c> and reads its events until the terminal one.</summary>
    public async Task<ModelTurn> RunTurnAsync(JsonObject createEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createEvent);
        ObjectDisposedException.ThrowIf(IsBroken, this);
        var payload = JsonSerializer.SerializeToUtf8Bytes(createEvent);
        var assembler = new TurnAssembler(Stopwatch.GetTimestamp(), _options.MaxMessageBytes);
        try
        {
            await _socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            while (true)
            {
                var (evt, bytes) = await ReceiveEventAsync(cancellationToken);
                if (assembler.Accept(evt, bytes) is { } done)
                {
                    LastResponseId = done.ResponseId;
                    TurnCount++;
                    return assembler.ToTurn(done, payload.Length);
                }
            }
        }
        catch (ModelException ex)
        {
            // The server answered in protocol: the socket stays usable unless the frame stream itself is suspect.
            // A failed continuation evicts the cached parent, so nothing on this socket chains to it again.
            LastResponseId = null;
            if (!ex.SocketStillUsable)
            {
                IsBroken = true;
            }
            throw;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or JsonException)
        {
            IsBroken = true;
            var kind = ex is JsonException ? ModelFailureKind.Protocol : ModelFailureKind.ConnectionLost;
            throw new ModelException(kind, $"Socket {Id} failed mid-turn: {ex.Message}", inner: ex);
        }
        catch
        {
            // A turn abandoned mid-stream (cancelled, or anything unforeseen) leaves unread events behind: the socket
            // cannot serve another turn.
            IsBroken = true;
            throw;
        }
    }

    /// <summary>
    /// Reads one message, never more than <see cref="LlmOptions.MaxMessageBytes"/> of it: past the cap the socket is
    /// given up with the rest unread.
    /// </summary>
    private async Task<(JsonObject Event, int Bytes)> ReceiveEventAsync(CancellationToken cancellationToken)
    {
        var limit = _options.MaxMessageBytes;
        var length = 0;
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        silence.CancelAfter(_options.ReceiveTimeout);
        while (true)
        {
            if (length == _receiveBuffer.Length)
            {
                // Room for one byte over the cap, to tell a message of exactly the cap from a longer one.
                Array.Resize(ref _receiveBuffer, (int)Math.Min(2L * length, limit + 1L));
            }
            ValueWebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(length), silence.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                IsBroken = true;
                throw new ModelException(ModelFailureKind.ConnectionLost,
                    $"Socket {Id}: no server event for {_options.ReceiveTimeout.TotalSeconds:F0} s (Llm:ReceiveTimeout).");
            }
            switch (result.MessageType)
            {
                case WebSocketMessageType.Close:
                    IsBroken = true;
                    throw new ModelException(ModelFailureKind.ConnectionLost,
                        $"Socket {Id} was closed by the server mid-turn ({_socket.CloseStatus} {_socket.CloseStatusDescription}).");
                case WebSocketMessageType.Binary:
                    IsBroken = true;
                    throw new ModelException(ModelFailureKind.Protocol, $"Socket {Id} received a binary frame; the protocol uses text frames only.");
            }
            length += result.Count;
            if (length > limit)
            {
                IsBroken = true;
                throw ModelException.MessageTooLarge($"A message on socket {Id}", limit);
            }
            if (result.EndOfMessage)
            {
                break;
            }
        }
        try
        {
            return (EventJson.Parse(_receiveBuffer.AsSpan(0, length))
                ?? throw new ModelException(ModelFailureKind.Protocol, $"Socket {Id} received a frame that is not a JSON object."), length);
        }
        finally
        {
            if (_receiveBuffer.Length > RetainedBufferBytes)
            {
                _receiveBuffer = new byte[InitialBufferBytes];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        IsBroken = true;
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // Closing is best effort: the peer may already be gone.
            }
        }
        _socket.Dispose();
    }
}
