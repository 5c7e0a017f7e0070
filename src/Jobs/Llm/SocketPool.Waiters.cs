namespace AgentWorker.Jobs.Llm;

internal sealed partial class SocketPool
{
    // The waiter queue: first come, first served; a freed slot or a returned socket goes to the first live waiter.

    private TaskCompletionSource<IModelSocket?> Enqueue()
    {
        var waiter = new TaskCompletionSource<IModelSocket?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.AddLast(waiter);
        return waiter;
    }

    private TaskCompletionSource<IModelSocket?>? DequeueWaiter()
    {
        // Called under the lock.
        while (_waiters.First is { } node)
        {
            _waiters.RemoveFirst();
            if (!node.Value.Task.IsCompleted)
            {
                return node.Value;
            }
        }
        return null;
    }

    private bool RemoveWaiter(TaskCompletionSource<IModelSocket?> waiter)
    {
        lock (_lock)
        {
            return _waiters.Remove(waiter);
        }
    }

    /// <summary>A slot was freed (socket discarded, open failed): hand it to the first waiter, or give it back.</summary>
    private void ReleaseSlotAndWakeOne()
    {
        lock (_lock)
        {
            _open--;
        }
        ReleaseFreedSlotToWaiter();
    }

    private void ReleaseFreedSlotToWaiter()
    {
        while (true)
        {
            TaskCompletionSource<IModelSocket?>? waiter;
            lock (_lock)
            {
                if (_disposed || _open >= _options.MaxSockets || (waiter = DequeueWaiter()) is null)
                {
                    return;
                }
                // Reserve the slot for the waiter: it opens its own socket.
                _open++;
                _leased++;
            }
            if (waiter.TrySetResult(null))
            {
                return;
            }
            lock (_lock)
            {
                _open--;
                _leased--;
            }
        }
    }
}
