namespace AgentWorker.Jobs.Tasks;

/// <summary>Enqueues and reads tasks from C#. Same semantics as <c>agent.enqueue</c> (it calls it).</summary>
public interface ITaskClient
{
    /// <summary>Returns the new task's id, or the existing one for a repeated idempotency key.</summary>
    /// <exception cref="TaskValidationException">Bad input; nothing was stored.</exception>
    Task<long> EnqueueAsync(EnqueueRequest request, CancellationToken cancellationToken);

    Task<TaskDetails?> GetAsync(long id, CancellationToken cancellationToken);
}
