using AgentWorker.Jobs.Tasks;
using Dapper;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Batches;

/// <summary>The schedules of the configuration (section <c>Schedules</c>, one child per schedule).</summary>
internal sealed record ConfiguredSchedules(IReadOnlyDictionary<string, ScheduleDefinition> Schedules);

/// <summary>
/// Keeps Hangfire's recurring jobs equal to <c>agent.schedules</c>: one recurring job per enabled schedule, with its
/// cron and time zone, none for the rest. At start-up it first writes the configuration's schedules into the table
/// (and removes the configuration's schedules that are gone from it), then reconciles; afterwards on every change
/// (NOTIFY <c>agent_schedules</c>) and every 30 s. Every worker process does this; the writes are idempotent, so a
/// schedule is one recurring job however many processes run, and Hangfire's scheduler fires it once per slot.
/// Missed slots (the workers were down) are fired once at the next start, not once per slot (Hangfire's default).
/// </summary>
internal sealed partial class ScheduleSync(
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource,
    ConfiguredSchedules configured,
    IRecurringJobManager recurringJobs,
    JobStorage storage,
    BatchSignals signals,
    IOptions<BatchOptions> options,
    TimeProvider time,
    ILogger<ScheduleSync> logger) : BackgroundService
{
    private static readonly TimeSpan s_resync = TimeSpan.FromSeconds(30);

    /// <summary>Writes the settings and the configuration's schedules; a bad schedule in configuration fails start-up.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into agent.settings (name, value) values ('batches.max_tasks', @max) on conflict (name) do update set value = excluded.value",
            new { max = options.Value.MaxTasks.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken: cancellationToken));
        foreach (var (name, schedule) in configured.Schedules)
        {
            try
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    select agent.upsert_schedule(name => @name, cron => @Cron, time_zone => @TimeZone, prompts => @prompts,
                        template => @Template, source_sql => @SourceSql, instructions => @Instructions, model => @Model,
                        priority => @Priority, max_steps => @MaxSteps, deadline_after => @DeadlineAfter,
                        follow_up => @FollowUp, enabled => @Enabled, defined_in => 'config')
                    """, new
                {
                    name, schedule.Cron, schedule.TimeZone, prompts = schedule.Prompts?.ToArray(), schedule.Template, schedule.SourceSql,
                    schedule.Instructions, schedule.Model, schedule.Priority, schedule.MaxSteps, schedule.DeadlineAfter, schedule.FollowUp,
                    schedule.Enabled,
                }, cancellationToken: cancellationToken));
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidParameterValue)
            {
                throw new InvalidOperationException($"Schedules:{name} (environment Schedules__{name}__...) is not a valid schedule: {ex.MessageText}", ex);
            }
        }
        // A schedule taken out of the configuration goes too (the other processes hear of it).
        await connection.ExecuteAsync(new CommandDefinition("""
            with gone as (delete from agent.schedules where defined_in = 'config' and not (name = any(@names)) returning name)
            select pg_notify('agent_schedules', '') from (select 1 from gone limit 1) g
            """, new { names = configured.Schedules.Keys.ToArray() }, cancellationToken: cancellationToken));
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
        List<ScheduleRow> schedules;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            schedules = (await connection.QueryAsync<ScheduleRow>(new CommandDefinition(
                "select name, cron, time_zone as TimeZone, enabled from agent.schedules", cancellationToken: cancellationToken))).AsList();
        }
        using var storageConnection = storage.GetConnection();
        var existing = storageConnection.GetRecurringJobs()
            .Where(j => j.Id.StartsWith(ScheduleJob.RecurringPrefix, StringComparison.Ordinal))
            .ToDictionary(j => j.Id, StringComparer.Ordinal);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var schedule in schedules.Where(s => s.Enabled))
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

    private sealed record ScheduleRow(string Name, string Cron, string TimeZone, bool Enabled);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "Syncing schedules to Hangfire failed; trying again later")]
    private partial void LogSyncFailed(Exception exception);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Error, Message = "Schedule {Name} cannot be a Hangfire recurring job: {Reason}")]
    private partial void LogScheduleRefused(string name, string reason);
}
