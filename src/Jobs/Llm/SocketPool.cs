using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Per-process pool of warm model sockets, modelled on Npgsql's connection pool. At most
/// <see cref="LlmOptions.MaxSockets"/> are open or opening; a lease holds one socket for a whole run and is never
/// shared; waiters are served first come, first served, and are woken when a socket comes back or a slot frees
/// (also when an open fails). A generation counter retires every socket at once; sockets are recycled before
/// <see cref="LlmOptions.MaxLifetime"/>, but only when idle.
/// </summary>
internal sealed partial class SocketPool : IAsyncDisposable
{
    private readonly LlmOptions _options;
    private readonly ISocketConnector _connector;
    private readonly TimeProvider _time;
    private readonly ILogger<SocketPool> _logger;
    private readonly Lock _lock = new();
    private readonly LinkedList<IdleSocket> _idle = []; // most recently returned first
    private readonly LinkedList<TaskCompletionSource<IModelSocket?>> _waiters = [];
    private readonly Dictionary<IModelSocket, int> _generations = [];
    private readonly ConcurrentDictionary<ModelFailureKind, long> _failures = new();
    private int _open;   // open or opening: never above MaxSockets
    private int _leased;
    private int _generation;
    private bool _disposed;
    private long _handshakes;
    private long _reuses;
    private long _recycles;
    private long _pruned;

    public SocketPool(IOptions<LlmOptions> options, ISocketConnector connector, TimeProvider time, ILogger<SocketPool> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _connector = connector;
        _time = time;
        _logger = logger;
    }

    private sealed record IdleSocket(IModelSocket Socket, DateTimeOffset Since);

    public SocketPoolStatistics Statistics
    {
        get
        {
            lock (_lock)
            {
                return new SocketPoolStatistics(
                    Total: _open, Idle: _idle.Count, Leased: _leased, Waiters: _waiters.Count,
                    Handshakes: _handshakes, Reuses: _reuses, Recycles: _recycles, Pruned: _pruned,
                    Failures: _failures.ToDictionary(p => p.Key, p => p.Value));
            }
        }
    }

    /// <summary>Leases a socket for one run; waits up to <see cref="LlmOptions.LeaseTimeout"/>.</summary>
    /// <exception cref="TimeoutException">No socket came free in time.</exception>
    /// <exception cref="ModelException">Opening a socket failed (the slot is freed and a waiter woken).</exception>
    public async Task<SocketLease> LeaseAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.LeaseTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        while (true)
        {
            TaskCompletionSource<IModelSocket?>? waiter = null;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                // Queued waiters go first: a newcomer never overtakes them.
                if (_waiters.Count == 0)
                {
                    if (TakeIdle() is { } idle)
                    {
                        _leased++;
                        _reuses++;
                        return new SocketLease(this, idle, reused: true);
                    }
                    if (_open < _options.MaxSockets)
                    {
                        _open++;
                        _leased++;
                    }
                    else
                    {
                        waiter = Enqueue();
                    }
                }
                else
                {
                    waiter = Enqueue();
                }
            }

            if (waiter is null)
            {
                return new SocketLease(this, await OpenForLeaseAsync(cancellationToken), reused: false);
            }

            IModelSocket? handed;
            try
            {
                handed = await waiter.Task.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException)
            {
                if (!RemoveWaiter(waiter))
                {
                    // Served while timing out: give the socket (or the slot) back, so it is not lost.
                    var late = await waiter.Task;
                    if (late is not null)
                    {
                        await ReturnAsync(late);
                    }
                    else
                    {
                        lock (_lock)
                        {
                            _leased--;
                        }
                        ReleaseSlotAndWakeOne();
                    }
                }
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException(
                    $"No model socket became free within {_options.LeaseTimeout.TotalSeconds:F1} s: all {_options.MaxSockets} are leased "
                    + "(raise Llm:MaxSockets or Llm:LeaseTimeout, or lower Worker:Concurrency).");
            }
            if (handed is not null)
            {
                // The returning run already counted it as leased for us.
                lock (_lock)
                {
                    _reuses++;
                }
                return new SocketLease(this, handed, reused: true);
            }
            // Woken with a free slot (a socket was discarded or an open failed): the slot is reserved for us.
            return new SocketLease(this, await OpenForLeaseAsync(cancellationToken), reused: false);
        }
    }

    /// <summary>Connects a socket for a slot already counted in <c>_open</c> and <c>_leased</c>; frees both on failure.</summary>
    private async Task<IModelSocket> OpenForLeaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ConnectAsync(cancellationToken);
        }
        catch
        {
            lock (_lock)
            {
                _leased--;
            }
            ReleaseSlotAndWakeOne();
            throw;
        }
    }

    /// <summary>Swaps a lease's socket for a freshly connected one (recovery inside a run); the slot stays the lease's.</summary>
    internal async Task<IModelSocket> ReplaceAsync(IModelSocket broken, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _generations.Remove(broken);
        }
        await broken.DisposeAsync();
        return await ConnectAsync(cancellationToken);
    }

    /// <summary>Takes a socket back from a lease: to the next waiter, to the idle list, or discarded.</summary>
    internal async ValueTask ReturnAsync(IModelSocket socket)
    {
        TaskCompletionSource<IModelSocket?>? waiter = null;
        var discard = false;
        lock (_lock)
        {
            var current = _generations.TryGetValue(socket, out var generation) && generation == _generation;
            if (_disposed || !current || !socket.IsOpen || IsExpired(socket))
            {
                discard = true;
                _leased--;
                _generations.Remove(socket);
            }
            else if (DequeueWaiter() is { } next)
            {
                waiter = next; // stays leased, now for the waiter
            }
            else
            {
                _leased--;
                _idle.AddFirst(new IdleSocket(socket, _time.GetUtcNow()));
            }
        }
        if (discard)
        {
            await DisposeQuietlyAsync(socket);
            ReleaseSlotAndWakeOne();
        }
        else if (waiter is not null && !waiter.TrySetResult(socket))
        {
            // The waiter gave up at that instant: try again with the next one, or keep it idle.
            await ReturnAsync(socket);
        }
    }

    private async Task<IModelSocket> ConnectAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        IModelSocket socket;
        try
        {
            socket = await _connector.ConnectAsync(cancellationToken);
        }
        catch (ModelException ex)
        {
            _failures.AddOrUpdate(ex.Kind, 1, (_, n) => n + 1);
            if (ex.Kind == ModelFailureKind.HandshakeRefused)
            {
                // The key was refused (revoked, rotated): no socket opened with it should serve again.
                Clear();
            }
            throw;
        }
        var elapsedMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        lock (_lock)
        {
            _handshakes++;
            _generations[socket] = _generation;
        }
        LogConnected(socket.Id, elapsedMs);
        return socket;
    }

    internal void RecordFailure(ModelFailureKind kind) => _failures.AddOrUpdate(kind, 1, (_, n) => n + 1);

    private IModelSocket? TakeIdle()
    {
        // Called under the lock. Sockets that died while idle are dropped here; maintenance closes them.
        while (_idle.First is { } node)
        {
            _idle.RemoveFirst();
            var socket = node.Value.Socket;
            if (socket.IsOpen && !IsExpired(socket) && _generations.TryGetValue(socket, out var g) && g == _generation)
            {
                return socket;
            }
            _open--;
            _generations.Remove(socket);
            Discard([socket]);
        }
        return null;
    }

    private bool IsExpired(IModelSocket socket) => _time.GetUtcNow() - socket.CreatedAt >= _options.MaxLifetime;

    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Opened model socket {SocketId} in {ElapsedMs:F1} ms")]
    private partial void LogConnected(string socketId, double elapsedMs);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Discarded model socket {SocketId} after {Turns} turns")]
    private partial void LogDiscarded(string socketId, int turns);
}
