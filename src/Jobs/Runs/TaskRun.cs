namespace AgentWorker.Jobs.Runs;

/// <summary>
/// One run of one claimed task, from claim to its single write. A stop asked from outside (a cancel, the process
/// stopping, the claim lost) is recorded once, first come first served, and cancels the run's token; how the run then
/// ends is decided once, in <see cref="TaskRunner"/>, from that request, the deadline or what the loop returned.
/// </summary>
internal sealed class TaskRun(ClaimedTask task) : IDisposable
{
    private const int None = -1;
    private readonly CancellationTokenSource _stop = new();
    private int _requested = None;

    public ClaimedTask Task { get; } = task;

    public long Id => Task.Id;

    /// <summary>Fires when a stop is requested.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>The stop asked from outside, if any.</summary>
    public StopReason? Requested => Volatile.Read(ref _requested) is var r && r == None ? null : (StopReason)r;

    /// <summary>Wall time of the run, for the mirror.</summary>
    public System.Diagnostics.Stopwatch Clock { get; } = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>The run's work, set when it starts; awaited at shutdown.</summary>
    public Task? Completion { get; set; }

    /// <summary>Asks the run to stop for <paramref name="reason"/>; false when a stop was already asked (the first one stands).</summary>
    public bool RequestStop(StopReason reason)
    {
        if (Interlocked.CompareExchange(ref _requested, (int)reason, None) != None)
        {
            return false;
        }
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run ended at that instant; its write is already decided.
        }
        return true;
    }

    public void Dispose() => _stop.Dispose();
}
