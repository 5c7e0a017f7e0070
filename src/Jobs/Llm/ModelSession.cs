using System.Text.Json.Nodes;
using Polly.CircuitBreaker;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The Responses conversation of one run. Holds one socket lease for the whole run and chains turns on it (only the new
/// items and <c>previous_response_id</c>); when the socket is lost, or the server lost the chained response, the turn is
/// sent once more, unchained and in full, on a fresh socket; when no socket can be opened, the turn goes over HTTP
/// (before any of its events, so nothing is duplicated); rate limits and transient errors are retried after a wait.
/// </summary>
internal sealed class ModelSession : IModelConversation
{
    private readonly ModelClient _client;
    private readonly long _taskId;
    private SocketLease? _lease;
    private string? _lastResponseId;

    /// <summary>The chaining cursor: how many items of the conversation the server holds as the last response's context.</summary>
    private int _held;

    internal ModelSession(ModelClient client, long taskId)
    {
        _client = client;
        _taskId = taskId;
    }

    public ModelEndpoint Endpoint => _client.Endpoint;

    public async Task<TurnResult> RunTurnAsync(TurnRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var attempts = 0;
        var recovery = new List<string>();
        var (turn, travelled) = await _client.Retry.ExecuteAsync(async token =>
        {
            if (attempts > 0)
            {
                recovery.Add("retried after a wait");
            }
            return await AttemptAsync(request, () => attempts++, recovery, token);
        }, cancellationToken);
        _lastResponseId = turn.ResponseId;
        _held = request.Items.Count + turn.Output.Count;
        return new TurnResult
        {
            ResponseId = turn.ResponseId,
            Output = turn.Output,
            Usage = turn.Usage,
            ResponseModel = turn.ResponseModel,
            TimeToFirstOutputMs = turn.TimeToFirstOutputMs,
            TransportMs = turn.TransportMs,
            RequestBytes = turn.RequestBytes,
            Transport = travelled.Transport,
            SocketId = travelled.SocketId,
            SocketReused = travelled.SocketReused,
            Chained = travelled.Chained,
            Attempts = attempts,
            Recovery = recovery.Count == 0 ? null : string.Join("; ", recovery),
        };
    }

    /// <summary>How one turn travelled.</summary>
    private readonly record struct Travel(ModelTransport Transport, string? SocketId, bool? SocketReused, bool Chained);

    private async Task<(ModelTurn, Travel)> AttemptAsync(
        TurnRequest request, Action countAttempt, List<string> recovery, CancellationToken cancellationToken)
    {
        var socket = await SocketAsync(renew: false, recovery, cancellationToken);
        if (socket is null)
        {
            countAttempt();
            return await HttpTurnAsync(request, cancellationToken);
        }
        var chained = _lastResponseId is not null && socket.LastResponseId == _lastResponseId;
        var reused = _lease!.Reused; // SocketAsync returned a socket, so there is a lease.
        try
        {
            countAttempt();
            var turn = await socket.RunTurnAsync(Create(request, chained), cancellationToken);
            _lease.MarkUsed();
            return (turn, new Travel(ModelTransport.WebSocket, socket.Id, reused, chained));
        }
        catch (ModelException ex) when (ex.IsRecoverableOnFreshSocket)
        {
            _client.Pool.RecordFailure(ex.Kind);
            _client.LogRecovering(_taskId, socket.Id, ex.Kind, ex.Message);
            recovery.Add($"{ex.Code ?? ex.Kind.ToString()} on {socket.Id}: full resend on a fresh socket");
        }

        // Once: a fresh socket (or HTTP when none can be opened), the whole transcript, no previous_response_id.
        var fresh = await SocketAsync(renew: true, recovery, cancellationToken);
        countAttempt();
        if (fresh is null)
        {
            return await HttpTurnAsync(request, cancellationToken);
        }
        var again = await fresh.RunTurnAsync(Create(request, chained: false), cancellationToken);
        _lease!.MarkUsed(); // SocketAsync returned a socket, so there is a lease.
        return (again, new Travel(ModelTransport.WebSocket, fresh.Id, false, false));
    }

    private JsonObject Create(TurnRequest request, bool chained) =>
        ResponsesRequest.Create(request, _held, chained ? _lastResponseId : null);

    private async Task<(ModelTurn, Travel)> HttpTurnAsync(TurnRequest request, CancellationToken cancellationToken)
    {
        var turn = await _client.Http.RunTurnAsync(Create(request, chained: false), cancellationToken);
        return (turn, new Travel(ModelTransport.Http, null, null, false));
    }

    /// <summary>
    /// The lease's socket, leasing or reconnecting through the WebSocket breaker as needed; null when the turn
    /// must go over HTTP (configured, breaker open, or the connect failed).
    /// </summary>
    private async Task<IModelSocket?> SocketAsync(bool renew, List<string> recovery, CancellationToken cancellationToken)
    {
        if (_client.Options.Transport == ModelTransport.Http)
        {
            return null;
        }
        if (!renew && _lease is { Socket.IsOpen: true })
        {
            return _lease.Socket;
        }
        try
        {
            await _client.WebSocketBreaker.ExecuteAsync(async token =>
            {
                if (_lease is null)
                {
                    _lease = await _client.Pool.LeaseAsync(token);
                }
                else
                {
                    await _lease.RenewAsync(token);
                }
            }, cancellationToken);
            return _lease!.Socket; // Set by the callback above, which did not throw.
        }
        catch (Exception ex) when (ex is BrokenCircuitException || ex is ModelException { Kind: ModelFailureKind.ConnectionLost })
        {
            _client.LogHttpFallback(_taskId, ex.Message);
            recovery.Add(ex is BrokenCircuitException ? "WebSocket breaker open: HTTP" : "WebSocket connect failed: HTTP");
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_lease is not null)
        {
            await _lease.DisposeAsync();
        }
    }
}
