using AgentWorker.Jobs.Batches;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// Keeps Hangfire's recurring jobs equal to <c>agent.schedules</c>: one recurring job per enabled schedule, with its
/// cron and time zone, none for the rest. At start-up it first writes the configuration's schedules into the table
/// (and removes the configuration's schedules that are gone from it), then reconciles; afterwards on every change
/// (NOTIFY <c>agent_schedules</c>) and every 30 s. Every worker process does this; the writes are idempotent, so a
/// schedule is one recurring job however many processes run, and Hangfire's scheduler fires it once per slot.
/// Missed slots (the workers were down) are fired once at the next start, not once per slot (Hangfire's default).
/// </summary>
internal sealed partial class ScheduleSync(
    ScheduleStore schedules,
    IRecurringJobManager recurringJobs,
    JobStorage storage,
    BatchSignals signals,
    TimeProvider time,
    ILogger<ScheduleSync> logger) : BackgroundService
{
    private static readonly TimeSpan s_resync = TimeSpan.FromSeconds(30);

    /// <summary>Writes the configuration's schedules (a bad one fails start-up), then reconciles.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await schedules.ApplyConfigurationAsync(cancellationToken);
        await ReconcileAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await signals.WaitForSchedulesAsync(s_resync, time, stoppingToken);
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                LogSyncFailed(ex);
            }
        }
    }

    /// <summary>One recurring job per enabled schedule, updated in place; the recurring jobs of the rest removed.</summary>
    internal async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var rows = await schedules.ListAsync(cancellationToken);
        using var storageConnection = storage.GetConnection();
        var existing = storageConnection.GetRecurringJobs()
            .Where(j => j.Id.StartsWith(ScheduleJob.RecurringPrefix, StringComparison.Ordinal))
            .ToDictionary(j => j.Id, StringComparer.Ordinal);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var schedule in rows.Where(s => s.Enabled))
        {
            var id = ScheduleJob.RecurringPrefix + schedule.Name;
            wanted.Add(id);
            // Every process reconciles every 30 s: a recurring job that already says the same is left alone.
            if (existing.TryGetValue(id, out var job) && job.Cron == schedule.Cron && job.TimeZoneId == schedule.TimeZone && job.Error is null)
            {
                continue;
            }
            try
            {
                recurringJobs.AddOrUpdate(id, ScheduleJob.For(schedule.Name), schedule.Cron,
                    new RecurringJobOptions { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone), MisfireHandling = MisfireHandlingMode.Relaxed });
            }
            catch (Exception ex) when (ex is ArgumentException or TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                wanted.Remove(id);
                LogScheduleRefused(schedule.Name, ex.Message);
            }
        }
        foreach (var id in existing.Keys.Where(id => !wanted.Contains(id)))
        {
            recurringJobs.RemoveIfExists(id);
        }
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "Syncing schedules to Hangfire failed; trying again later")]
    private partial void LogSyncFailed(Exception exception);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Error, Message = "Schedule {Name} cannot be a Hangfire recurring job: {Reason}")]
    private partial void LogScheduleRefused(string name, string reason);
}
