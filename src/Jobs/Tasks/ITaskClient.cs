namespace AgentWorker.Jobs.Tasks;

/// <summary>Enqueues and reads tasks from C#. Same semantics as <c>agent.enqueue</c> (it calls it).</summary>
public interface ITaskClient
{
    /// <summary>Returns the new task's id, or the existing one for a repeated idempotency key.</summary>
    /// <exception cref="TaskValidationException">Bad input; nothing was stored.</exception>
    Task<long> EnqueueAsync(EnqueueRequest request, CancellationToken cancellationToken);

    Task<TaskDetails?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>Tasks newest first, optionally by status and batch; <paramref name="before"/> (an id) pages on.</summary>
    Task<IReadOnlyList<TaskSummary>> ListAsync(string? status, long? batchId, int limit, long? before, CancellationToken cancellationToken);

    /// <summary>Cancels a queued task, or asks a running one to stop; false when the task had already finished (or does not exist).</summary>
    Task<bool> CancelAsync(long id, CancellationToken cancellationToken);
}
