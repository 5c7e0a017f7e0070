using AgentWorker.Jobs.Tasks;
using Dapper;
using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Hangfire;

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
        // A template batch is expanded by a worker in a moment: the fire's job says whether that worked, so a broken
        // schedule (a query that writes, a column gone) shows as a failed job, not as a healthy one.
        for (var waited = TimeSpan.Zero; waited < ExpansionWait; waited += PollEvery)
        {
            var (status, error) = await connection.QuerySingleAsync<(string Status, string? Error)>(new CommandDefinition(
                "select status, error from agent.batches where id = @batchId", new { batchId }, cancellationToken: cancellationToken));
            if (status == "failed")
            {
                throw new InvalidOperationException($"Schedule {name}: batch #{batchId} failed: {error}");
            }
            if (status != "pending")
            {
                return $"Batch #{batchId} created ({status})";
            }
            await Task.Delay(PollEvery, cancellationToken);
        }
        return $"Batch #{batchId} created, still pending: no worker expanded its template within {ExpansionWait.TotalSeconds:0} s";
    }

    private static readonly TimeSpan ExpansionWait = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(200);
}
