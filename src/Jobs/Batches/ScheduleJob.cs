using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using Dapper;
using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Batches;

/// <summary>
/// The Hangfire recurring job of one schedule (<c>agent-schedule:&lt;name&gt;</c> on the Recurring Jobs page): each
/// fire creates one batch. The fire's Hangfire job id is the batch's <c>fire_key</c>, so a retried or re-run job
/// returns the batch it made instead of making another; "Trigger now" is a new fire.
/// </summary>
public sealed class ScheduleJob([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource)
{
    /// <summary>Recurring job ids of schedules: this prefix and the schedule's name.</summary>
    public const string RecurringPrefix = "agent-schedule:";

    internal static Job For(string name) =>
        Job.FromExpression<ScheduleJob>(job => job.FireAsync(name, null, CancellationToken.None), AgentTaskJob.ControlQueue);

    [JobDisplayName("Schedule {0}: new batch")]
    [AutomaticRetry(Attempts = 3)]
    public async Task<string> FireAsync(string name, PerformContext? context, CancellationToken cancellationToken)
    {
        var fireKey = context is null ? null : "hangfire:" + context.BackgroundJob.Id;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var batchId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select agent.trigger_schedule(@name, @fireKey)", new { name, fireKey }, cancellationToken: cancellationToken));
        return $"Batch #{batchId} created";
    }
}
