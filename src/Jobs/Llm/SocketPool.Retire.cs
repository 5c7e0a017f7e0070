namespace AgentWorker.Jobs.Llm;

internal sealed partial class SocketPool
{
    /// <summary>Retires every socket: idle ones now, leased ones when they come back (after a 401 or a key change).</summary>
    public void Clear()
    {
        List<IModelSocket> idle;
        lock (_lock)
        {
            _generation++;
            idle = _idle.Select(i => i.Socket).ToList();
            _idle.Clear();
            _open -= idle.Count;
        }
        Discard(idle);
        for (var i = 0; i < idle.Count; i++)
        {
            ReleaseFreedSlotToWaiter();
        }
    }

    private void Discard(IEnumerable<IModelSocket> sockets)
    {
        foreach (var socket in sockets)
        {
            LogDiscarded(socket.Id, socket.TurnCount);
            _ = DisposeQuietlyAsync(socket);
        }
    }

    private static async Task DisposeQuietlyAsync(IModelSocket socket)
    {
        try
        {
            await socket.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            // Closing is best effort: the peer may be gone already.
        }
    }

    /// <summary>Stops leasing, fails waiters, closes idle sockets; leased ones are closed when they come back.</summary>
    public async ValueTask DisposeAsync()
    {
        List<IModelSocket> idle;
        List<TaskCompletionSource<IModelSocket?>> waiters;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            idle = _idle.Select(i => i.Socket).ToList();
            _idle.Clear();
            _open -= idle.Count;
            waiters = [.. _waiters];
            _waiters.Clear();
        }
        foreach (var waiter in waiters)
        {
            waiter.TrySetException(new ObjectDisposedException(nameof(SocketPool), "The socket pool is shutting down."));
        }
        await Task.WhenAll(idle.Select(DisposeQuietlyAsync));
    }
}
