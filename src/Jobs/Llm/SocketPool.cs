using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Per-process pool of warm Responses WebSockets. A lease is held for a whole task run and never shared;
/// at most <see cref="LlmOptions.MaxSockets"/> sockets are open or opening at once.
/// </summary>
public sealed partial class SocketPool : IAsyncDisposable
{
    private readonly LlmOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SocketPool> _logger;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentStack<ResponsesSocket> _idle = new();
    private long _handshakes;
    private long _reuses;
    private long _discarded;
    private int _leased;
    private bool _disposed;

    public SocketPool(IOptions<LlmOptions> options, TimeProvider time, ILogger<SocketPool> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxSockets, _options.MaxSockets);
    }

    public SocketPoolStatistics Statistics => new(
        Idle: _idle.Count,
        Leased: Volatile.Read(ref _leased),
        Handshakes: Interlocked.Read(ref _handshakes),
        Reuses: Interlocked.Read(ref _reuses),
        Discarded: Interlocked.Read(ref _discarded));

    /// <summary>Leases a socket for one run; waits up to <see cref="LlmOptions.LeaseTimeout"/> for a free slot.</summary>
    public async Task<SocketLease> LeaseAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!await _slots.WaitAsync(_options.LeaseTimeout, cancellationToken))
        {
            throw new TimeoutException(
                $"No model socket became free within {_options.LeaseTimeout.TotalSeconds:F0} s: all {_options.MaxSockets} are leased "
                + "(raise Llm:MaxSockets or Llm:LeaseTimeout, or lower the worker concurrency).");
        }
        try
        {
            var (socket, reused) = await TakeOrConnectAsync(cancellationToken);
            Interlocked.Increment(ref _leased);
            return new SocketLease(this, socket, reused);
        }
        catch
        {
            // A failed open frees its slot at once, so a waiter can try.
            _slots.Release();
            throw;
        }
    }

    /// <summary>Replaces a lease's socket with a freshly connected one (recovery inside a run); the slot is kept.</summary>
    internal async Task<ResponsesSocket> ReplaceAsync(ResponsesSocket broken, CancellationToken cancellationToken)
    {
        await DiscardAsync(broken);
        return await ConnectAsync(cancellationToken);
    }

    internal async ValueTask ReturnAsync(ResponsesSocket socket)
    {
        Interlocked.Decrement(ref _leased);
        try
        {
            if (!_disposed && socket.IsOpen && !socket.IsExpired(_time.GetUtcNow()))
            {
                _idle.Push(socket);
            }
            else
            {
                await DiscardAsync(socket);
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<(ResponsesSocket Socket, bool Reused)> TakeOrConnectAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        while (_idle.TryPop(out var idle))
        {
            if (idle.IsOpen && !idle.IsExpired(now))
            {
                Interlocked.Increment(ref _reuses);
                return (idle, true);
            }
            await DiscardAsync(idle);
        }
        return (await ConnectAsync(cancellationToken), false);
    }

    private async Task<ResponsesSocket> ConnectAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var socket = await ResponsesSocket.ConnectAsync(_options, _time, cancellationToken);
        Interlocked.Increment(ref _handshakes);
        var elapsedMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogConnected(socket.Id, elapsedMs);
        return socket;
    }

    private async ValueTask DiscardAsync(ResponsesSocket socket)
    {
        Interlocked.Increment(ref _discarded);
        LogDiscarded(socket.Id, socket.TurnCount);
        await socket.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryPop(out var socket))
        {
            await socket.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Opened model socket {SocketId} in {ElapsedMs:F1} ms")]
    private partial void LogConnected(string socketId, double elapsedMs);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Discarded model socket {SocketId} after {Turns} turns")]
    private partial void LogDiscarded(string socketId, int turns);
}
