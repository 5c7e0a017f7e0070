using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Batches;

/// <summary>Batches and schedules from C#, beside <see cref="ITaskClient"/>. Same rules as the SQL API (it calls it).</summary>
public interface IBatchClient
{
    /// <summary>
    /// Creates a batch (<c>agent.enqueue_batch</c>) and returns its id. A prompt list's tasks exist on return; a template
    /// batch is <c>pending</c> until a worker has run its query (<see cref="WaitUntilExpandedAsync"/>).
    /// </summary>
    /// <exception cref="TaskValidationException">Bad input, naming the argument; nothing was stored.</exception>
    /// <exception cref="IdempotencyConflictException">The key was used before for a different batch; nothing was stored.</exception>
    Task<long> CreateAsync(BatchRequest request, CancellationToken cancellationToken);

    /// <summary>Waits until a template batch has left <c>pending</c> (or <paramref name="timeout"/> passed); returns it.</summary>
    Task<BatchDetails?> WaitUntilExpandedAsync(long id, TimeSpan timeout, CancellationToken cancellationToken);

    Task<BatchDetails?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>Removes a <c>failed</c> batch (it never had a task); false for any other batch.</summary>
    Task<bool> DeleteFailedAsync(long id, CancellationToken cancellationToken);

    /// <summary>Batches newest first, optionally by status; <paramref name="before"/> (an id) pages on.</summary>
    Task<IReadOnlyList<BatchDetails>> ListAsync(string? status, int limit, long? before, CancellationToken cancellationToken);

    Task<BatchCancelOutcome> CancelAsync(long id, CancellationToken cancellationToken);

    /// <summary>Every task of the batch with its result (<c>agent.batch_results</c>), in task order; null when there is no such batch.</summary>
    Task<IReadOnlyList<BatchResult>?> ResultsAsync(long id, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a schedule (<c>agent.upsert_schedule</c>): <c>created</c>, <c>updated</c> or <c>unchanged</c>.</summary>
    /// <exception cref="TaskValidationException">Bad input (a cron, a time zone ...), naming the argument; nothing was stored.</exception>
    Task<string> UpsertScheduleAsync(string name, ScheduleRequest request, CancellationToken cancellationToken);

    Task<ScheduleDetails?> GetScheduleAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<ScheduleDetails>> ListSchedulesAsync(CancellationToken cancellationToken);

    /// <summary>Removes a schedule (its batches stay); false when there was none.</summary>
    Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>Fires a schedule now (<c>agent.trigger_schedule</c>); the new batch's id, or null when there is no such schedule.</summary>
    Task<long?> TriggerScheduleAsync(string name, CancellationToken cancellationToken);
}
