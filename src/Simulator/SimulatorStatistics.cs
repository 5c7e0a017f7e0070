using System.Collections.Concurrent;

namespace AgentWorker.Simulator;

/// <summary>What the simulator saw, for tests and benchmarks (<c>GET /sim/stats</c>).</summary>
public sealed class SimulatorStatistics
{
    private long _connections;
    private long _responses;
    private long _chained;

    public long Connections => Interlocked.Read(ref _connections);

    public long Responses => Interlocked.Read(ref _responses);

    /// <summary>Responses that continued a previous one with <c>previous_response_id</c>.</summary>
    public long Chained => Interlocked.Read(ref _chained);

    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _peak = new(StringComparer.Ordinal);

    /// <summary>The most responses of each model that were being generated at the same time.</summary>
    public IReadOnlyDictionary<string, int> PeakInFlight => _peak;

    /// <summary>Counts a response of <paramref name="model"/> in flight until the result is disposed.</summary>
    internal IDisposable InFlight(string model)
    {
        var now = _inFlight.AddOrUpdate(model, 1, (_, n) => n + 1);
        _peak.AddOrUpdate(model, now, (_, peak) => Math.Max(peak, now));
        return new Release(() => _inFlight.AddOrUpdate(model, 0, (_, n) => n - 1));
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    /// <summary>Every request received, in order of arrival (bounded to the last 10000).</summary>
    public ConcurrentQueue<RequestRecord> Requests { get; } = new();

    internal void ConnectionOpened() => Interlocked.Increment(ref _connections);

    internal void ResponseStarted(RequestRecord record)
    {
        Interlocked.Increment(ref _responses);
        if (record.PreviousResponseId is not null)
        {
            Interlocked.Increment(ref _chained);
        }
        Requests.Enqueue(record);
        while (Requests.Count > 10_000 && Requests.TryDequeue(out _))
        {
        }
    }
}

/// <summary>One <c>response.create</c> or POST as the simulator received it.</summary>
public sealed record RequestRecord(string Transport, string ConnectionId, string? PreviousResponseId, int InputItems, string ResponseId);
