using System.Threading.Channels;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Batches;

/// <summary>
/// Wake-ups for the batch services, raised by the process's LISTEN connection (<c>agent_batches</c>: a template batch
/// is pending; <c>agent_schedules</c>: a schedule changed) and after it reconnects (a NOTIFY may have been missed).
/// </summary>
internal sealed class BatchSignals : IDisposable
{
    public const string BatchesChannel = "agent_batches";
    public const string SchedulesChannel = "agent_schedules";

    private readonly Channel<bool> _batches = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _schedules = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private readonly IDisposable _batchesSubscription;
    private readonly IDisposable _schedulesSubscription;

    public BatchSignals(IProcessNotifier notifier)
    {
        ArgumentNullException.ThrowIfNull(notifier);
        _batchesSubscription = notifier.Subscribe(BatchesChannel, BatchPending, resync: BatchPending);
        _schedulesSubscription = notifier.Subscribe(SchedulesChannel, SchedulesChanged, resync: SchedulesChanged);
    }

    public void Dispose()
    {
        _batchesSubscription.Dispose();
        _schedulesSubscription.Dispose();
    }

    public void BatchPending() => _batches.Writer.TryWrite(true);

    public void SchedulesChanged() => _schedules.Writer.TryWrite(true);

    /// <summary>Waits for a pending batch, or <paramref name="timeout"/> (the fallback poll).</summary>
    public Task WaitForBatchAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        WaitAsync(_batches, timeout, time, cancellationToken);

    /// <summary>Waits for a schedule change, or <paramref name="timeout"/>.</summary>
    public Task WaitForSchedulesAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        WaitAsync(_schedules, timeout, time, cancellationToken);

    private static async Task WaitAsync(Channel<bool> channel, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await channel.Reader.ReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Time to look again.
        }
    }
}
