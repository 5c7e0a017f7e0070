using System.Diagnostics;
using System.Globalization;
using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Maintenance;

/// <summary>
/// The retention sweep, run by a recurring job (the Hangfire adapter's <c>RetentionJob</c>, where an operator may
/// trigger it). It removes finished tasks older than <see cref="RetentionOptions.FinishedTasks"/> with
/// their steps, oldest first, in transactions of <see cref="RetentionOptions.BatchSize"/> tasks, then the finished
/// batches none of whose tasks is left. Queued and running tasks are never touched: the rows are chosen and locked in
/// the deleting statement (<c>FOR UPDATE SKIP LOCKED</c>, status re-checked), so a task retried meanwhile keeps its
/// steps, the checkpoint it resumes from. One sweep at a time across every process: a lock on
/// <see cref="AppLock.RetentionTable"/> (a second run ends at once, "skipped", rather than waiting; not an advisory lock,
/// which any login of the database could take first and keep retention from ever running).
/// </summary>
public sealed partial class RetentionSweep(
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource,
    IOptions<RetentionOptions> options,
    ILogger<RetentionSweep> logger)
{
    private const string SweepTasksSql = """
        with doomed as (
            select id from agent.tasks
             where status in ('succeeded', 'failed', 'cancelled') and finished_at < now() - @keep
             order by finished_at
             limit @batch
               for update skip locked),
        steps as (delete from agent.steps s using doomed d where s.task_id = d.id returning 1),
        tasks as (delete from agent.tasks t using doomed d where t.id = d.id returning t.status, t.hangfire_job_id)
        select (select count(*) from tasks) as Tasks, (select count(*) from steps) as Steps,
               (select coalesce(array_agg(hangfire_job_id), '{}') from tasks
                 where status = 'failed' and hangfire_job_id is not null) as FailedJobs
        """;

    // A batch goes once it is over and none of its tasks is left (they went by retention, or it never had any).
    private const string SweepBatchesSql = """
        delete from agent.batches b
         where b.id in (select b2.id from agent.batches b2
                         where b2.status in ('finished', 'cancelled', 'failed')
                           and coalesce(b2.finished_at, b2.created_at) < now() - @keep
                           and not exists (select 1 from agent.tasks t where t.batch_id = b2.id)
                         order by b2.id
                         limit @batch
                           for update skip locked)
        """;

    /// <summary>The shortest rest between two transactions of the sweep.</summary>
    private static readonly TimeSpan s_pause = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// After each transaction the sweep rests this many times as long as the transaction took, so it works at most a
    /// 21st of the time: its WAL (about the size of what it removes, full pages of cold rows) is written in small
    /// pieces between the commits of enqueues and claims instead of in front of them. Measured (bench, "Storage at
    /// volume"): pickup p99 unchanged while it removes a few hundred tasks a second on 2 cores, a day's worth of a
    /// million tasks within the hour.
    /// </summary>
    internal int RestFactor { get; init; } = 20;

    /// <summary>What one sweep removed.</summary>
    public sealed record Result(long Tasks, long Steps, long Batches, TimeSpan Took, bool Skipped)
    {
        public override string ToString() => Skipped
            ? "Skipped: another process is sweeping"
            : string.Create(CultureInfo.InvariantCulture,
                $"Removed {Tasks} finished tasks with {Steps} steps and {Batches} batches in {Took.TotalSeconds:F1} s");
    }

    private sealed class Swept
    {
        public long Tasks { get; init; }

        public long Steps { get; init; }

        /// <summary>Mirror jobs of the failed tasks removed.</summary>
        public string[] FailedJobs { get; init; } = [];
    }

    /// <summary>
    /// One sweep: every finished task past the retention, batch by batch, then the emptied batches. After each batch
    /// <paramref name="failedJobsRemoved"/> gets the mirror job ids (<c>hangfire_job_id</c>) of the failed tasks it
    /// removed: a failed job is kept until someone deletes it, so its mirror lets it go.
    /// </summary>
    public async Task<Result> SweepAsync(Action<IReadOnlyList<string>>? failedJobsRemoved, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var clock = Stopwatch.StartNew();
        if (!settings.Enabled)
        {
            return new Result(0, 0, 0, clock.Elapsed, Skipped: false);
        }
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var held = await AppLock.AcquireAsync(lockConnection, AppLock.RetentionTable, TimeSpan.Zero, cancellationToken);
        if (held is null)
        {
            LogSkipped();
            return new Result(0, 0, 0, clock.Elapsed, Skipped: true);
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var keep = settings.FinishedTasks;
        long tasks = 0, steps = 0;
        // A run stops taking new transactions after one interval: a backlog (retention just turned on) goes over
        // several runs, and a control worker is never held for hours.
        while (clock.Elapsed < settings.Interval)
        {
            var took = Stopwatch.StartNew();
            var swept = await SweepBatchAsync(connection, keep, settings.BatchSize, cancellationToken);
            if (swept.FailedJobs.Length > 0)
            {
                failedJobsRemoved?.Invoke(swept.FailedJobs);
            }
            tasks += swept.Tasks;
            steps += swept.Steps;
            if (swept.Tasks < settings.BatchSize)
            {
                break;
            }
            var rest = took.Elapsed * RestFactor;
            await Task.Delay(rest > s_pause ? rest : s_pause, cancellationToken);
        }
        long batches = 0;
        int removed;
        do
        {
            removed = await connection.ExecuteAsync(new CommandDefinition(
                SweepBatchesSql, new { keep, batch = settings.BatchSize }, cancellationToken: cancellationToken));
            batches += removed;
        }
        while (removed == settings.BatchSize);
        var result = new Result(tasks, steps, batches, clock.Elapsed, Skipped: false);
        LogSwept(tasks, steps, batches, clock.Elapsed.TotalSeconds, keep);
        return result;
    }

    /// <summary>
    /// One transaction of the sweep. Its commit does not wait for the WAL flush (<c>synchronous_commit = off</c>): a
    /// removal lost to a crash is simply done again by the next sweep, and the enqueues' and claims' commits do not
    /// queue behind the sweep's flushes.
    /// </summary>
    private static async Task<Swept> SweepBatchAsync(NpgsqlConnection connection, TimeSpan keep, int batch, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("set local synchronous_commit = off", transaction: transaction, cancellationToken: cancellationToken));
        var swept = await connection.QuerySingleAsync<Swept>(new CommandDefinition(
            SweepTasksSql, new { keep, batch }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return swept;
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information,
        Message = "Retention: removed {Tasks} finished tasks with {Steps} steps and {Batches} batches in {Seconds:F1} s (kept: the last {Keep})")]
    private partial void LogSwept(long tasks, long steps, long batches, double seconds, TimeSpan keep);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Retention: another process is sweeping; this run skips")]
    private partial void LogSkipped();
}
