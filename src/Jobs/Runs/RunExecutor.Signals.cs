using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using AgentWorker.Jobs.Batches;
using Npgsql;

namespace AgentWorker.Jobs.Runs;

internal sealed partial class RunExecutor
{
    /// <summary>
    /// One unpooled connection LISTENs on <c>agent_tasks</c> (work is due: claim) and <c>agent_cancel</c> (some task was
    /// cancelled: beat now, which reads the cancel flags of this process's runs). A notification only wakes: its
    /// payload is never read, since any login of the database may send one on any channel. After a reconnect the loop
    /// claims at once: a NOTIFY may have been missed; a missed cancel is caught by the next heartbeat.
    /// </summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await listenSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => OnNotification(e.Channel);
                await using (var listen = new NpgsqlCommand(
                    $"LISTEN {TasksChannel}; LISTEN {CancelChannel}; LISTEN {BatchSignals.BatchesChannel}; LISTEN {BatchSignals.SchedulesChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                Wake();
                batchSignals.BatchPending();
                batchSignals.SchedulesChanged();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or System.IO.IOException)
            {
                LogListenFailed(ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnNotification(string channel)
    {
        if (channel == TasksChannel)
        {
            Wake();
        }
        else if (channel == BatchSignals.BatchesChannel)
        {
            batchSignals.BatchPending();
        }
        else if (channel == BatchSignals.SchedulesChannel)
        {
            batchSignals.SchedulesChanged();
        }
        else if (channel == CancelChannel && !_runs.IsEmpty)
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

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "The executor's LISTEN connection failed; reconnecting")]
    private partial void LogListenFailed(Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Heartbeat for {Runs} runs failed")]
    private partial void LogHeartbeatFailed(Exception exception, int runs);
}
