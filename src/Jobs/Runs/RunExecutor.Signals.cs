using System.Globalization;
using Microsoft.Extensions.Logging;
using AgentWorker.Jobs.Batches;
using Npgsql;

namespace AgentWorker.Jobs.Runs;

internal sealed partial class RunExecutor
{
    /// <summary>
    /// One unpooled connection LISTENs on <c>agent_tasks</c> (work is due: claim) and <c>agent_cancel</c> (stop that
    /// run, if it runs here, within milliseconds). After a reconnect the loop claims at once: a NOTIFY may have been
    /// missed; a missed cancel is caught by the next heartbeat, which reads the cancel flag.
    /// </summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await listenSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => OnNotification(e.Channel, e.Payload);
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

    private void OnNotification(string channel, string payload)
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
        else if (channel == CancelChannel
            && long.TryParse(payload, NumberStyles.Integer, CultureInfo.InvariantCulture, out var taskId)
            && _runs.TryGetValue(taskId, out var run)
            && run.RequestStop(StopReason.Cancelled))
        {
            LogCancelled(taskId);
        }
    }

    /// <summary>
    /// Renews every claim of this process in one statement per third of the lease, and stops the runs whose claim was
    /// lost (another process took the task over) or whose task was cancelled (a NOTIFY this process missed).
    /// </summary>
    private async Task HeartbeatAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.LeaseDuration / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var runs = _runs.Values.ToArray();
                if (runs.Length == 0)
                {
                    continue;
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
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The executor stopped.
        }
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Task {TaskId}: cancel requested, stopping its run")]
    private partial void LogCancelled(long taskId);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "The executor's LISTEN connection failed; reconnecting")]
    private partial void LogListenFailed(Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Heartbeat for {Runs} runs failed")]
    private partial void LogHeartbeatFailed(Exception exception, int runs);
}
