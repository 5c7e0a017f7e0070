namespace AgentWorker.Jobs.Llm;

/// <summary>
/// A socket held by one run from start to end. <see cref="RenewAsync"/> swaps a broken socket for a fresh one
/// inside the same lease; disposing returns the socket (or discards it when broken).
/// </summary>
internal sealed class SocketLease : IAsyncDisposable
{
    private readonly SocketPool _pool;
    private bool _returned;

    internal SocketLease(SocketPool pool, IModelSocket socket, bool reused)
    {
        _pool = pool;
        Socket = socket;
        Reused = reused;
    }

    public IModelSocket Socket { get; private set; }

    /// <summary>Whether the current socket had served an earlier run or turn (no handshake paid for it).</summary>
    public bool Reused { get; private set; }

    /// <summary>Discards the current socket and connects a fresh one.</summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        Socket = await _pool.ReplaceAsync(Socket, cancellationToken);
        Reused = false;
    }

    /// <summary>Marks the current socket as having served a turn, so later turns count as reuse.</summary>
    internal void MarkUsed() => Reused = true;

    public async ValueTask DisposeAsync()
    {
        if (_returned)
        {
            return;
        }
        _returned = true;
        await _pool.ReturnAsync(Socket);
    }
}
