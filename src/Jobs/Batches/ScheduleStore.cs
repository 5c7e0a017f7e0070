using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Batches;

/// <summary>One schedule as the recurring-job sync needs it.</summary>
internal sealed record ScheduleRow(string Name, string Cron, string TimeZone, bool Enabled);

/// <summary>
/// <c>agent.schedules</c> as the schedule sync reads and writes it: the configuration's schedules written into the table
/// at start (those taken out of the configuration removed), and the schedules to keep as recurring jobs.
/// </summary>
internal sealed class ScheduleStore(
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource,
    ConfiguredSchedules configured,
    IOptions<BatchOptions> options)
{
    /// <summary>Writes the settings and the configuration's schedules; a bad schedule in configuration fails start-up.</summary>
    public async Task ApplyConfigurationAsync(CancellationToken cancellationToken)
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
                        follow_up => @FollowUp, enabled => @Enabled, defined_in => 'config', agent => @Agent)
                    """, new
                {
                    name, schedule.Cron, schedule.TimeZone, prompts = schedule.Prompts?.ToArray(), schedule.Template, schedule.SourceSql,
                    schedule.Instructions, schedule.Model, schedule.Priority, schedule.MaxSteps, schedule.DeadlineAfter, schedule.FollowUp,
                    schedule.Enabled, schedule.Agent,
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
    }

    /// <summary>Every schedule, enabled or not.</summary>
    public async Task<IReadOnlyList<ScheduleRow>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<ScheduleRow>(new CommandDefinition(
            "select name, cron, time_zone as TimeZone, enabled from agent.schedules", cancellationToken: cancellationToken))).AsList();
    }
}
