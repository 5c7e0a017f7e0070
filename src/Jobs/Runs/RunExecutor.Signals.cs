using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Runs;

internal sealed partial class RunExecutor
{
    /// <summary>
    /// Some task was cancelled (<c>agent_cancel</c>): beat now, which reads the cancel flags of this process's runs. The
    /// notification only wakes: any login of the database may send one.
    /// </summary>
    private void BeatNow()
    {
        if (!_runs.IsEmpty)
        {
            _beatNow.Writer.TryWrite(true);
        }
    }

    /// <summary>Heartbeats asked for early (a cancel notification); a burst of them is one beat.</summary>
    private readonly Channel<bool> _beatNow = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>The least time between two early beats: a flood of forged notifications costs one statement per this.</summary>
    private static readonly TimeSpan s_earlyBeatSpacing = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits until the next regular beat is due or an early one is asked for; returns whether it was early.</summary>
    private async Task<bool> WaitForBeatAsync(DateTimeOffset due, CancellationToken stop)
    {
        var wait = due - time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            return false;
        }
        using var round = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var regular = Task.Delay(wait, time, round.Token);
        var early = _beatNow.Reader.ReadAsync(round.Token).AsTask();
        var first = await Task.WhenAny(regular, early);
        await round.CancelAsync();
        stop.ThrowIfCancellationRequested();
        return first == early && early.IsCompletedSuccessfully;
    }

    /// <summary>
    /// Renews every claim of this process in one statement per third of the lease, and stops the runs whose claim was
    /// lost (another process took the task over) or whose task was cancelled (a NOTIFY this process missed).
    /// </summary>
    private async Task HeartbeatAsync(CancellationToken stop)
    {
        var interval = _options.LeaseDuration / 3;
        var due = time.GetUtcNow() + interval;
        try
        {
            while (true)
            {
                var early = await WaitForBeatAsync(due, stop);
                if (!early)
                {
                    due = time.GetUtcNow() + interval;
                }
                await BeatAsync(stop);
                if (early)
                {
                    await Task.Delay(s_earlyBeatSpacing, time, stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The executor stopped.
        }
    }

    /// <summary>One heartbeat: renews every claim of this process, stops the runs lost or cancelled.</summary>
    private async Task BeatAsync(CancellationToken stop)
    {
        var runs = _runs.Values.ToArray();
        if (runs.Length == 0)
        {
            return;
        }
        try
        {
            var beats = await store.HeartbeatAsync(
                [.. runs.Select(r => r.Id)], [.. runs.Select(r => r.Task.Owner)], _options.LeaseDuration, stop);
            foreach (var beat in beats)
            {
                if (!_runs.TryGetValue(beat.Id, out var run))
                {
                    continue;
                }
                if (!beat.Held)
                {
                    run.RequestStop(StopReason.LeaseLost);
                }
                else if (beat.CancelRequested && run.RequestStop(StopReason.Cancelled))
                {
                    LogCancelled(beat.Id);
                }
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // A missed beat is not fatal: the lease outlives two more intervals.
            LogHeartbeatFailed(ex, runs.Length);
        }
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Task {TaskId}: cancel requested, stopping its run")]
    private partial void LogCancelled(long taskId);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Heartbeat for {Runs} runs failed")]
    private partial void LogHeartbeatFailed(Exception exception, int runs);
}
