namespace AgentWorker.Jobs.Tasks;

/// <summary>Enqueues, reads, cancels and retries tasks from C#. Same semantics as the SQL API (it calls it).</summary>
public interface ITaskClient
{
    /// <summary>Returns the new task's id, or the existing one for a repeated idempotency key with the same content.</summary>
    /// <exception cref="TaskValidationException">Bad input; nothing was stored.</exception>
    /// <exception cref="IdempotencyConflictException">The key was used before for different content; nothing was stored.</exception>
    Task<long> EnqueueAsync(EnqueueRequest request, CancellationToken cancellationToken);

    Task<TaskDetails?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>Tasks newest first, optionally by status and batch; <paramref name="before"/> (an id) pages on.</summary>
    Task<IReadOnlyList<TaskSummary>> ListAsync(string? status, long? batchId, int limit, long? before, CancellationToken cancellationToken);

    /// <summary>Cancels a queued task, or asks a running one to stop (<c>agent.cancel</c>).</summary>
    Task<CancelOutcome> CancelAsync(long id, CancellationToken cancellationToken);

    /// <summary>
    /// Queues a failed or cancelled task again, resuming from its stored steps (<c>agent.retry</c>);
    /// <paramref name="maxSteps"/>, when given, replaces its max_steps.
    /// </summary>
    /// <exception cref="TaskValidationException"><paramref name="maxSteps"/> is not between 1 and 200.</exception>
    Task<RetryOutcome> RetryAsync(long id, int? maxSteps, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="RetryAsync(long, int?, CancellationToken)"/>, with the operator's decision on the calls a
    /// <c>tool_in_doubt</c> task left in doubt (<c>agent.retry(..., in_doubt => 'rerun' | 'skip')</c>). Without one,
    /// such a task is left as it is (<see cref="RetryOutcome.InDoubt"/>).
    /// </summary>
    Task<RetryOutcome> RetryAsync(long id, int? maxSteps, InDoubtDecision? inDoubt, CancellationToken cancellationToken);
}
