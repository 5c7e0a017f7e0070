using Dapper;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// Turns due, queued tasks into Hangfire jobs. Wakes on <c>NOTIFY agent_tasks</c> (sent by every insert) and
/// polls slowly as a fallback. Rows are locked with SKIP LOCKED, so several dispatchers never hand out one task
/// twice; a crash between creating the job and recording it can at worst create a duplicate job, which the
/// run's claim makes harmless.
/// </summary>
public sealed partial class TaskDispatcher(
    [FromKeyedServices(TaskStore.AppDataSourceKey)] NpgsqlDataSource dataSource,
    IBackgroundJobClient jobs,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<TaskDispatcher> logger) : BackgroundService
{
    public const string Channel = "agent_tasks";

    // Due queued tasks; running tasks whose run stopped heartbeating (a killed worker), whose next run resumes from the
    // stored steps; and queued tasks whose Hangfire job is gone, failed or stuck. A duplicate job for a task whose old
    // run is somehow alive is harmless: the claim decides.
    private const string DueSql = """
        select id, priority
          from agent.tasks
         where (status = 'queued' and hangfire_job_id is null and run_at <= now())
            or (status = 'running' and lease_expires_at < now())
            -- a queued task whose job ended, or was fetched and dropped, without running it (say, the database went
            -- down under it): alive means waiting for its time, or in a queue and not fetched (or fetched just now)
            or (status = 'queued' and hangfire_job_id is not null and dispatched_at < now() - @lease
                and not exists (select 1 from hangfire.job j
                                 where j.id = hangfire_job_id::bigint and j.statename in ('Scheduled', 'Awaiting'))
                and not exists (select 1 from hangfire.jobqueue q
                                 where q.jobid = hangfire_job_id::bigint and (q.fetchedat is null or q.fetchedat > now() - @lease)))
         order by priority desc, id
         limit @limit
           for update skip locked
        """;

    private const string RecordSql = """
        update agent.tasks t
           set hangfire_job_id = d.job_id, dispatched_at = now(),
               -- a taken-over task loses its dead owner (the new run may claim it at once) and gets a fresh window,
               -- so the sweep does not dispatch it again while the new job waits in its queue
               lease_owner = case when t.status = 'running' then null else t.lease_owner end,
               lease_expires_at = case when t.status = 'running' then now() + @lease else t.lease_expires_at end
          from unnest(@ids, @jobIds) as d(id, job_id)
         where t.id = d.id
        """;

    private const string NextDueSql = """
        select extract(epoch from least(
                 (select min(run_at) from agent.tasks where status = 'queued' and hangfire_job_id is null and run_at > now()),
                 (select min(lease_expires_at) from agent.tasks where status = 'running')) - now())::float8
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAndDispatchAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A lost LISTEN connection or a database restart: back off, reconnect, and dispatch what was missed.
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures, 7))));
                LogDispatchFailed(ex, delay.TotalMilliseconds);
                await Task.Delay(delay, time, stoppingToken);
                continue;
            }
        }
    }

    private async Task ListenAndDispatchAsync(CancellationToken stoppingToken)
    {
        await using var listener = await dataSource.OpenConnectionAsync(stoppingToken);
        await using (var listen = new NpgsqlCommand("LISTEN " + Channel, listener))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            // Dispatch until nothing due is left, then sleep until a NOTIFY, the next run_at, or the poll interval.
            int dispatched;
            do
            {
                dispatched = await DispatchDueAsync(stoppingToken);
            }
            while (dispatched == options.Value.BatchSize);
            var wait = await NextWaitAsync(stoppingToken);
            await listener.WaitAsync(wait, stoppingToken);
        }
    }

    /// <summary>Creates Hangfire jobs for one batch of due tasks; returns how many.</summary>
    internal async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // A lost dispatch record only means the task is dispatched again (the claim decides): no need to wait for the flush.
        await connection.ExecuteAsync(new CommandDefinition("set local synchronous_commit = off", transaction: transaction,
            cancellationToken: cancellationToken));
        var due = (await connection.QueryAsync<(long Id, short Priority)>(new CommandDefinition(
            DueSql, new { limit = options.Value.BatchSize, lease = options.Value.LeaseDuration }, transaction,
            cancellationToken: cancellationToken))).ToList();
        if (due.Count == 0)
        {
            return 0;
        }
        var ids = new long[due.Count];
        var jobIds = new string[due.Count];
        for (var i = 0; i < due.Count; i++)
        {
            var id = due[i].Id;
            ids[i] = id;
            jobIds[i] = jobs.Create(TaskQueues.JobFor(id, due[i].Priority), new EnqueuedState(TaskQueues.ForPriority(due[i].Priority)));
        }
        await connection.ExecuteAsync(new CommandDefinition(
            RecordSql, new { ids, jobIds, lease = options.Value.LeaseDuration }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        LogDispatched(due.Count);
        return due.Count;
    }

    private async Task<TimeSpan> NextWaitAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Lost jobs are found by the regular poll: a queued task waiting on a live retry must not make this loop spin.
        var seconds = await connection.ExecuteScalarAsync<double?>(new CommandDefinition(NextDueSql, cancellationToken: cancellationToken));
        var poll = options.Value.PollInterval;
        return seconds is { } s && TimeSpan.FromSeconds(Math.Max(s, 0.001)) < poll ? TimeSpan.FromSeconds(Math.Max(s, 0.001)) : poll;
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "Dispatched {Count} tasks to Hangfire")]
    private partial void LogDispatched(int count);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "Dispatcher failed; retrying in {DelayMs:F0} ms")]
    private partial void LogDispatchFailed(Exception exception, double delayMs);
}
