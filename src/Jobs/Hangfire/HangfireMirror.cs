using System.Globalization;
using System.Threading.Channels;
using System.Transactions;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using Hangfire;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// Keeps one Hangfire job per agent task true to the task, off the critical path: runs only post events here, and
/// one consumer writes them in batches (job creations one by one, every state change of a batch in one write
/// transaction). States are written raw, with what Hangfire's own handlers would add (counters, expiry), so the
/// dashboard's lists, counters and history stay true and no Hangfire worker ever fetches these jobs. The executor is
/// announced as a Hangfire server, so the Processing page shows its runs as alive.
/// </summary>
internal sealed partial class HangfireMirror(
    JobStorage storage,
    RunStore store,
    RunCapacity capacity,
    TimeProvider time,
    ILogger<HangfireMirror> logger) : BackgroundService, IRunObserver
{
    private const int MaxBatch = 500;
    private static readonly TimeSpan s_linger = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_serverHeartbeat = TimeSpan.FromSeconds(20);

    private readonly Channel<MirrorEvent> _events = Channel.CreateUnbounded<MirrorEvent>(new UnboundedChannelOptions { SingleReader = true });

    // The consumer's own memory of the jobs it created, by task, until the task's last event: a run can end before its
    // job id reached agent.tasks.
    private readonly Dictionary<long, string> _jobs = [];

    /// <summary>The Hangfire server id the executor's runs are listed under.</summary>
    public string ServerId { get; } = "agent-runs:" + ProcessInstance.Id;

    private enum Kind
    {
        Running,
        Waiting,
        Finished,
    }

    private sealed record MirrorEvent(Kind Kind, ClaimedTask Task, DateTimeOffset At, string? Reason = null,
        TaskOutcome? Outcome = null, TimeSpan Duration = default);

    /// <summary>The task's run started (a claim): the job is created if it has none, and shows in Processing.</summary>
    public void Claimed(ClaimedTask task) => Post(new MirrorEvent(Kind.Running, task, time.GetUtcNow()));

    /// <summary>The task waits in the queue until <paramref name="until"/> (a model at its cap, a hand-back): Scheduled.</summary>
    public void Waiting(ClaimedTask task, DateTimeOffset until, string reason) => Post(new MirrorEvent(Kind.Waiting, task, until, reason));

    /// <summary>A retry: Scheduled until <paramref name="at"/>, with the failure as the reason.</summary>
    public void RetryLater(ClaimedTask task, DateTimeOffset at, string reason) => Waiting(task, at, reason);

    /// <summary>The task finished. A task cancelled by deleting its job leaves the job as the operator left it.</summary>
    public void Finished(ClaimedTask task, TaskOutcome outcome, string? cancelReason, TimeSpan duration)
    {
        if (outcome.Status == TaskStatuses.Cancelled && cancelReason == CancelTaskOnJobDeleted.Reason)
        {
            Post(new MirrorEvent(Kind.Finished, task, time.GetUtcNow(), Reason: CancelTaskOnJobDeleted.Reason));
            return;
        }
        Post(new MirrorEvent(Kind.Finished, task, time.GetUtcNow(), cancelReason, outcome, duration));
    }

    private void Post(MirrorEvent e) => _events.Writer.TryWrite(e);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var heartbeat = ServerHeartbeatAsync(stoppingToken);
        var batch = new List<MirrorEvent>(MaxBatch);
        try
        {
            while (await WaitToReadAsync(stoppingToken))
            {
                await LingerAsync(stoppingToken);
                while (batch.Count < MaxBatch && _events.Reader.TryRead(out var e))
                {
                    batch.Add(e);
                }
                await FlushAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        finally
        {
            // Stopping (after the executor, which handed its runs back): write what is left, then leave.
            while (_events.Reader.TryRead(out var e))
            {
                batch.Add(e);
            }
            if (batch.Count > 0)
            {
                await FlushAsync(batch, CancellationToken.None);
            }
            await heartbeat;
            TryRemoveServer();
        }
    }

    private async Task<bool> WaitToReadAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await _events.Reader.WaitToReadAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task LingerAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(s_linger, time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping: flush at once.
        }
    }

    private async Task FlushAsync(List<MirrorEvent> batch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var created = Write(batch);
                if (created.Count > 0)
                {
                    await store.RecordJobsAsync([.. created.Select(c => c.TaskId)], [.. created.Select(c => c.JobId)], CancellationToken.None);
                }
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < 3)
            {
                LogMirrorFailed(ex, batch.Count, attempt);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(attempt), time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: one more try at once.
                }
            }
            catch (Exception ex)
            {
                // The dashboard falls behind; agent.tasks, the truth, is already written.
                LogMirrorDropped(ex, batch.Count);
                return;
            }
        }
    }

    /// <summary>Creates the missing jobs, then writes every state of the batch in one transaction.</summary>
    private List<(long TaskId, string JobId)> Write(List<MirrorEvent> batch)
    {
        var created = new List<(long, string)>();
        // One database transaction for the whole batch (Hangfire.PostgreSql enlists in the scope, its connections opened
        // one after another): the jobs and their states appear together, for one commit instead of two per task.
        using var scope = new TransactionScope(TransactionScopeOption.RequiresNew,
            new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TimeSpan.FromMinutes(1) });
        using var connection = storage.GetConnection();
        foreach (var e in batch.Where(e => e.Kind == Kind.Running))
        {
            if (JobOf(e.Task) is null)
            {
                var jobId = connection.CreateExpiredJob(AgentTaskJob.For(e.Task.Id, e.Task.Prompt), new Dictionary<string, string?>(),
                    e.At.UtcDateTime, TimeSpan.FromDays(1));
                _jobs[e.Task.Id] = jobId;
                created.Add((e.Task.Id, jobId));
            }
        }
        using var transaction = connection.CreateWriteTransaction();
        foreach (var e in batch)
        {
            if (JobOf(e.Task) is not { } jobId)
            {
                continue; // its job could not be created: the dashboard misses this task, nothing else does
            }
            switch (e.Kind)
            {
                case Kind.Running:
                    transaction.SetJobState(jobId, new MirrorProcessingState(ServerId, $"task {e.Task.Id} attempt {e.Task.Attempt}", e.At.UtcDateTime)
                    {
                        Reason = e.Task.Attempt > 1 ? $"attempt {e.Task.Attempt}" : null,
                    });
                    transaction.PersistJob(jobId);
                    break;
                case Kind.Waiting:
                    transaction.SetJobState(jobId, new ScheduledState(e.At.UtcDateTime) { Reason = Cut(e.Reason) });
                    // Its next run (here or in another process) reads the job id from agent.tasks, recorded by now.
                    _jobs.Remove(e.Task.Id);
                    break;
                case Kind.Finished:
                    WriteFinished(transaction, jobId, e);
                    _jobs.Remove(e.Task.Id);
                    break;
            }
        }
        transaction.Commit();
        scope.Complete();
        return created;
    }

    private string? JobOf(ClaimedTask task) => _jobs.TryGetValue(task.Id, out var id) ? id : task.HangfireJobId;

    private void WriteFinished(IWriteOnlyTransaction transaction, string jobId, MirrorEvent e)
    {
        if (e.Outcome is not { } outcome)
        {
            return; // deleted in the dashboard: Hangfire already wrote Deleted
        }
        var day = e.At.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var hour = e.At.UtcDateTime.ToString("yyyy-MM-dd-HH", CultureInfo.InvariantCulture);
        switch (outcome.Status)
        {
            case TaskStatuses.Succeeded:
                transaction.SetJobState(jobId, new SucceededState(
                    string.Create(CultureInfo.InvariantCulture, $"succeeded after {outcome.Steps} steps: {Cut(outcome.ResultText)}"),
                    0, (long)e.Duration.TotalMilliseconds));
                // What SucceededState's handler and the statistics filter would add.
                transaction.IncrementCounter("stats:succeeded");
                Count(transaction, "succeeded", day, hour);
                transaction.ExpireJob(jobId, storage.JobExpirationTimeout);
                break;
            case TaskStatuses.Failed:
                transaction.SetJobState(jobId, new FailedState(new AgentTaskFailedException(e.Task.Id, outcome.ErrorCode ?? "failed", outcome.ErrorMessage))
                {
                    Reason = outcome.ErrorCode,
                });
                Count(transaction, "failed", day, hour);
                transaction.PersistJob(jobId);
                break;
            default:
                transaction.SetJobState(jobId, new DeletedState { Reason = Cut(outcome.ErrorMessage) });
                transaction.IncrementCounter("stats:deleted");
                transaction.ExpireJob(jobId, storage.JobExpirationTimeout);
                break;
        }
    }

    private static void Count(IWriteOnlyTransaction transaction, string name, string day, string hour)
    {
        transaction.IncrementCounter($"stats:{name}:{day}", TimeSpan.FromDays(31));
        transaction.IncrementCounter($"stats:{name}:{hour}", TimeSpan.FromDays(1));
    }

    /// <summary>A result or reason as Hangfire stores it: a few lines, and text PostgreSQL can hold (a model's answer may hold a NUL).</summary>
    private static string? Cut(string? text) =>
        StorableText.Clean(text is null || text.Length <= 300 ? text : StorableText.Cut(text, 300) + "…");

    /// <summary>Announces the executor as a Hangfire server and heartbeats it, so its Processing jobs show as alive.</summary>
    private async Task ServerHeartbeatAsync(CancellationToken stoppingToken)
    {
        var announced = false;
        using var timer = new PeriodicTimer(s_serverHeartbeat, time);
        do
        {
            try
            {
                using var connection = storage.GetConnection();
                if (!announced)
                {
                    connection.AnnounceServer(ServerId, new ServerContext { Queues = ["agent runs (executor)"], WorkerCount = capacity.Slots });
                    announced = true;
                }
                else
                {
                    connection.Heartbeat(ServerId);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                announced = false; // announce again: a watchdog may have removed the server meanwhile
                LogServerHeartbeatFailed(ex);
            }
            try
            {
                if (!await timer.WaitForNextTickAsync(stoppingToken))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (true);
    }

    private void TryRemoveServer()
    {
        try
        {
            using var connection = storage.GetConnection();
            connection.RemoveServer(ServerId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogServerHeartbeatFailed(ex);
        }
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Warning, Message = "Hangfire mirror: writing {Count} events failed (try {Attempt}); retrying")]
    private partial void LogMirrorFailed(Exception exception, int count, int attempt);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Error, Message = "Hangfire mirror: dropped {Count} events; the dashboard may lag the tasks")]
    private partial void LogMirrorDropped(Exception exception, int count);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "Hangfire mirror: server heartbeat failed")]
    private partial void LogServerHeartbeatFailed(Exception exception);
}
