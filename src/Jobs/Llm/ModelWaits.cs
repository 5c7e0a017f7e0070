namespace AgentWorker.Jobs.Llm;

/// <summary>
/// How long a run that found its model at the cap waits before trying again: about a second, jittered so waiting runs
/// do not come back in step, and longer for a while after the model answered 429 (its hint, doubled).
/// </summary>
internal sealed class ModelWaits(TimeProvider time)
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Memory = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private DateTimeOffset _limitedAt = DateTimeOffset.MinValue;
    private TimeSpan _hint = TimeSpan.Zero;

    /// <summary>Called when the model answered 429, with its retry hint when it gave one.</summary>
    public void RecordRateLimit(TimeSpan? hint)
    {
        lock (_lock)
        {
            _limitedAt = time.GetUtcNow();
            _hint = hint ?? TimeSpan.FromSeconds(5);
        }
    }

    public TimeSpan Next()
    {
        TimeSpan wait;
        lock (_lock)
        {
            wait = time.GetUtcNow() - _limitedAt < Memory && _hint * 2 > Base ? _hint * 2 : Base;
        }
        return wait * (0.75 + (Random.Shared.NextDouble() / 2));
    }
}
