namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// An enqueue repeated an idempotency key with different content (prompt, instructions, model or options) than the
/// task first enqueued under it. Nothing was stored; the same request with the same key returns the first task.
/// </summary>
public sealed class IdempotencyConflictException(string message, Exception? inner = null) : Exception(message, inner);
