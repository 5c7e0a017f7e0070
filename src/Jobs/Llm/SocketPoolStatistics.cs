namespace AgentWorker.Jobs.Llm;

/// <summary>A snapshot of the pool's counters.</summary>
public sealed record SocketPoolStatistics(int Idle, int Leased, long Handshakes, long Reuses, long Discarded);
