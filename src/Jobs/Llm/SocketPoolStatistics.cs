namespace AgentWorker.Jobs.Llm;

/// <summary>A snapshot of the pool: sockets by state, and counters since start.</summary>
internal sealed record SocketPoolStatistics(
    int Total,
    int Idle,
    int Leased,
    int Waiters,
    long Handshakes,
    long Reuses,
    long Recycles,
    long Pruned,
    IReadOnlyDictionary<ModelFailureKind, long> Failures);
