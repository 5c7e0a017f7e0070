using System.Text.Json.Nodes;
using Polly.CircuitBreaker;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The model side of one run. Holds one socket lease for the whole run and chains turns on it; when the socket is
/// lost, or the server lost the chained response, the turn is sent once more, unchained and in full, on a fresh
/// socket; when no socket can be opened, the turn goes over HTTP (before any of its events, so nothing is
/// duplicated); rate limits and transient errors are retried after a wait.
/// </summary>
internal sealed class ModelSession : IAsyncDisposable
{
    private readonly ModelClient _client;
    private readonly long _taskId;
    private SocketLease? _lease;
    private string? _lastResponseId;

    internal ModelSession(ModelClient client, long taskId)
    {
        _client = client;
        _taskId = taskId;
    }

    /// <summary>
    /// Runs one turn. <paramref name="buildRequest"/> gets whether the turn is chained and returns the
    /// <c>response.create</c> with only the new items (chained) or the full transcript (not chained);
    /// the session adds <c>previous_response_id</c>.
    /// </summary>
    public async Task<TurnRecord> RunTurnAsync(Func<bool, JsonObject> buildRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buildRequest);
        var attempts = 0;
        var recovery = new List<string>();
        var record = await _client.Retry.ExecuteAsync(async token =>
        {
            if (attempts > 0)
            {
                recovery.Add("retried after a wait");
            }
            return await AttemptAsync(buildRequest, () => attempts++, recovery, token);
        }, cancellationToken);
        _lastResponseId = record.Turn.ResponseId;
        return record with { Attempts = attempts, Recovery = recovery.Count == 0 ? null : string.Join("; ", recovery) };
    }

    private async Task<TurnRecord> AttemptAsync(
        Func<bool, JsonObject> buildRequest, Action countAttempt, List<string> recovery, CancellationToken cancellationToken)
    {
        var socket = await SocketAsync(renew: false, recovery, cancellationToken);
        if (socket is null)
        {
            countAttempt();
            return await HttpTurnAsync(buildRequest, cancellationToken);
        }
        var chained = _lastResponseId is not null && socket.LastResponseId == _lastResponseId;
        var reused = _lease!.Reused; // SocketAsync returned a socket, so there is a lease.
        try
        {
            countAttempt();
            var turn = await socket.RunTurnAsync(Request(buildRequest, chained), cancellationToken);
            _lease.MarkUsed();
            return new TurnRecord { Turn = turn, Transport = StepKinds.WebSocketTransport, SocketId = socket.Id, SocketReused = reused, Chained = chained, Attempts = 1 };
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
            return await HttpTurnAsync(buildRequest, cancellationToken);
        }
        var again = await fresh.RunTurnAsync(Request(buildRequest, chained: false), cancellationToken);
        _lease!.MarkUsed(); // SocketAsync returned a socket, so there is a lease.
        return new TurnRecord { Turn = again, Transport = StepKinds.WebSocketTransport, SocketId = fresh.Id, SocketReused = false, Chained = false, Attempts = 1 };
    }

    private JsonObject Request(Func<bool, JsonObject> buildRequest, bool chained)
    {
        var request = buildRequest(chained);
        if (chained)
        {
            request["previous_response_id"] = _lastResponseId;
        }
        return request;
    }

    private async Task<TurnRecord> HttpTurnAsync(Func<bool, JsonObject> buildRequest, CancellationToken cancellationToken)
    {
        var turn = await _client.Http.RunTurnAsync(buildRequest(false), cancellationToken);
        return new TurnRecord { Turn = turn, Transport = StepKinds.HttpTransport, Chained = false, Attempts = 1 };
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
