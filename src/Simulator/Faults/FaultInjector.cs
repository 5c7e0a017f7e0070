using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace AgentWorker.Simulator.Faults;

/// <summary>Pending faults, taken in order by the connections; also the registry of open sockets for <c>restart</c>.</summary>
public sealed class FaultInjector
{
    private readonly Lock _lock = new();
    private readonly List<Pending> _responseFaults = [];
    private readonly List<Pending> _handshakeFaults = [];
    private readonly ConcurrentDictionary<WebSocket, byte> _sockets = new();
    private long _epoch;

    private sealed class Pending(FaultSpec spec)
    {
        public FaultSpec Spec { get; } = spec;
        public int Skip { get; set; } = spec.Skip;
        public int Left { get; set; } = spec.Count;
    }

    /// <summary>Bumped by every restart: a cache from an older epoch is gone.</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    public IReadOnlyList<FaultSpec> PendingFaults()
    {
        lock (_lock)
        {
            return [.. _responseFaults.Concat(_handshakeFaults).Select(p => p.Spec with { Count = p.Left, Skip = p.Skip })];
        }
    }

    public void Add(FaultSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (spec.Kind == "restart")
        {
            Restart();
            return;
        }
        lock (_lock)
        {
            (FaultSpec.HandshakeKinds.Contains(spec.Kind) ? _handshakeFaults : _responseFaults).Add(new Pending(spec));
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _responseFaults.Clear();
            _handshakeFaults.Clear();
        }
    }

    /// <summary>The fault for the WebSocket response being created now, if one is due.</summary>
    public FaultSpec? TakeResponseFault() => Take(_responseFaults, null);

    /// <summary>The fault for the HTTP response being created now: only those of <see cref="FaultSpec.HttpKinds"/> count.</summary>
    public FaultSpec? TakeHttpResponseFault() => Take(_responseFaults, FaultSpec.HttpKinds);

    public FaultSpec? TakeHandshakeFault() => Take(_handshakeFaults, null);

    private FaultSpec? Take(List<Pending> list, string[]? kinds)
    {
        lock (_lock)
        {
            FaultSpec? due = null;
            foreach (var pending in list.Where(p => kinds is null || kinds.Contains(p.Spec.Kind)))
            {
                if (pending.Skip > 0)
                {
                    pending.Skip--;
                }
                else if (due is null)
                {
                    due = pending.Spec;
                    pending.Left--;
                }
            }
            list.RemoveAll(p => p.Left == 0);
            return due;
        }
    }

    internal void Register(WebSocket socket) => _sockets[socket] = 0;

    internal void Unregister(WebSocket socket) => _sockets.TryRemove(socket, out _);

    /// <summary>A server restart: every connection dropped without a close frame, every cache gone.</summary>
    public void Restart()
    {
        Interlocked.Increment(ref _epoch);
        foreach (var socket in _sockets.Keys)
        {
            socket.Abort();
        }
    }
}
