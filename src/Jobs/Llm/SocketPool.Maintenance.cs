using Microsoft.Extensions.Logging;

namespace AgentWorker.Jobs.Llm;

internal sealed partial class SocketPool
{
    /// <summary>
    /// One maintenance round: closes idle sockets that died, belong to an old generation, reached
    /// <see cref="LlmOptions.MaxLifetime"/> (recycled) or idled past <see cref="LlmOptions.IdleTimeout"/> above
    /// <see cref="LlmOptions.MinWarm"/> (pruned); then opens sockets up to <see cref="LlmOptions.MinWarm"/>.
    /// Leased sockets are never touched.
    /// </summary>
    public async Task MaintainAsync(CancellationToken cancellationToken)
    {
        var retired = new List<IModelSocket>();
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            for (var node = _idle.Last; node is not null;)
            {
                var previous = node.Previous; // oldest first, so pruning keeps the most recently used
                var socket = node.Value.Socket;
                var dead = !socket.IsOpen || !_generations.TryGetValue(socket, out var g) || g != _generation;
                var expired = now - socket.CreatedAt >= _options.MaxLifetime;
                var surplus = _open > _options.MinWarm && now - node.Value.Since >= _options.IdleTimeout;
                if (dead || expired || surplus)
                {
                    _idle.Remove(node);
                    _open--;
                    _generations.Remove(socket);
                    retired.Add(socket);
                    if (!dead && expired)
                    {
                        _recycles++;
                    }
                    else if (!dead)
                    {
                        _pruned++;
                    }
                }
                node = previous;
            }
        }
        Discard(retired);
        foreach (var _ in retired)
        {
            ReleaseFreedSlotToWaiter();
        }
        await TopUpAsync(cancellationToken);
    }

    private async Task TopUpAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_lock)
            {
                if (_disposed || _open >= _options.MinWarm || _open >= _options.MaxSockets || _waiters.Count > 0)
                {
                    return;
                }
                _open++;
            }
            IModelSocket socket;
            try
            {
                socket = await ConnectAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is ModelException or OperationCanceledException)
            {
                ReleaseSlotAndWakeOne();
                if (ex is ModelException failure)
                {
                    LogWarmFailed(failure.Kind, failure.Message);
                }
                return;
            }
            lock (_lock)
            {
                _idle.AddFirst(new IdleSocket(socket, _time.GetUtcNow()));
            }
            // A waiter that queued while we connected gets this socket at once.
            await HandIdleToWaiterAsync();
        }
    }

    private async Task HandIdleToWaiterAsync()
    {
        TaskCompletionSource<IModelSocket?>? waiter;
        IModelSocket? socket;
        lock (_lock)
        {
            if (_waiters.Count == 0 || _idle.First is not { } node)
            {
                return;
            }
            waiter = DequeueWaiter();
            if (waiter is null)
            {
                return;
            }
            _idle.RemoveFirst();
            socket = node.Value.Socket;
            _leased++;
        }
        if (!waiter.TrySetResult(socket))
        {
            await ReturnAsync(socket);
        }
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Could not open a warm model socket ({Kind}): {Reason}")]
    private partial void LogWarmFailed(ModelFailureKind kind, string reason);
}
