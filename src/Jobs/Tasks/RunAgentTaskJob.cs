using System.Globalization;
using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Llm;
using Hangfire;
using Hangfire.Server;
using Hangfire.States;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The Hangfire job of one task; ids only as arguments. It claims the task (a duplicate job, or a second executor,
/// finds the claim taken and exits), heartbeats the claim, resumes from the stored steps, runs the loop and stores
/// the outcome. Transient failures hand the task back and let Hangfire retry the job with backoff; shutdown hands it
/// back and Hangfire requeues it; a cancel (SQL, API, or deleting the job in the dashboard) ends it cancelled.
/// </summary>
public sealed partial class RunAgentTaskJob(
    TaskStore store,
    AgentLoop loop,
    RunCancellations cancellations,
    ModelWaits waits,
    IOptions<DispatcherOptions> options,
    IOptions<LlmOptions> llmOptions,
    TimeProvider time,
    ILogger<RunAgentTaskJob> logger)
{
    /// <summary>Hangfire retries of a run that failed transiently (each resumes from the last stored step).</summary>
    public const int MaxRetries = 5;

    private static readonly string s_processOwner =
        Environment.MachineName + ":" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    [JobDisplayName("Agent task #{0}")]
    [AutomaticRetry(Attempts = MaxRetries, DelaysInSeconds = [5, 20, 60, 180, 600], OnlyOn = [typeof(TransientRunException)])]
    public async Task<string> RunAsync(long taskId, PerformContext? context, CancellationToken cancellationToken)
    {
        var owner = s_processOwner + ":" + Guid.NewGuid().ToString("N")[..8];
        var lease = options.Value.LeaseDuration;
        AgentTask? task;
        try
        {
            task = await store.ClaimAsync(taskId, owner, lease, cancellationToken);
        }
        catch (NpgsqlException ex) when (ex.IsTransient && RetryCount(context) < MaxRetries)
        {
            throw new TransientRunException(taskId, ex);
        }
        if (task is null)
        {
            LogNotClaimed(taskId);
            return "skipped: the task is finished or another run holds it";
        }

        var model = task.Model ?? llmOptions.Value.Model ?? "";
        if (!await store.AcquireModelSlotAsync(taskId, model, lease, cancellationToken))
        {
            // The model is at its shared cap: give the task and this worker thread back, and come back later.
            await store.ReleaseAsync(taskId, owner, CancellationToken.None, undoAttempt: true);
            var wait = waits.Next();
            if (context is not null)
            {
                new BackgroundJobClient(context.Storage).ChangeState(context.BackgroundJob.Id,
                    new ScheduledState(wait) { Reason = $"model {model} is at its concurrency cap" }, ProcessingState.StateName);
            }
            LogWaitingForModel(taskId, model, wait.TotalMilliseconds);
            return $"waiting: model {model} is at its concurrency cap";
        }

        using var run = cancellations.Register(taskId, cancellationToken);
        if (task.CancelRequested)
        {
            run.Cancel();
        }
        using var beat = new CancellationTokenSource();
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        var heartbeat = HeartbeatAsync(taskId, owner, lease, run, abandon, beat.Token);
        TaskOutcome outcome;
        try
        {
            var checkpoint = await store.LoadCheckpointAsync(taskId, abandon.Token);
            if (checkpoint.Count > 0)
            {
                LogResuming(taskId, checkpoint.Count, task.Attempt);
            }
            outcome = await loop.RunAsync(task, checkpoint, abandon.Token);
        }
        catch (OperationCanceledException) when (run.Cancelled)
        {
            outcome = TaskOutcome.Cancelled("cancelled while running; the steps done are kept");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (IsDeleted(context))
            {
                outcome = TaskOutcome.Cancelled("cancelled: its job was deleted in the dashboard; the steps done are kept");
            }
            else
            {
                // Shutdown: hand the task back; Hangfire requeues this job and the next run resumes from the checkpoint.
                await TryReleaseAsync(taskId, owner);
                throw;
            }
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            LogLeaseLost(taskId);
            return "abandoned: the claim was lost to another run";
        }
        catch (Exception ex) when (IsTransient(ex) && RetryCount(context) < MaxRetries)
        {
            LogRetrying(ex, taskId);
            await TryReleaseAsync(taskId, owner);
            throw new TransientRunException(taskId, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            outcome = TaskOutcome.Failed(ex is ModelException ? "model_error" : "internal_error", ex.Message, 0);
            LogRunFailed(ex, taskId);
        }
        finally
        {
            await beat.CancelAsync();
            await heartbeat;
        }

        if (!await store.FinishAsync(taskId, owner, outcome, CancellationToken.None))
        {
            LogLeaseLost(taskId);
            return "abandoned: the claim was lost to another run";
        }
        LogFinished(taskId, outcome.Status, outcome.Steps);
        if (outcome.Status == "failed")
        {
            throw new AgentTaskFailedException(taskId, outcome.ErrorCode ?? "failed", outcome.ErrorMessage);
        }
        return string.Create(CultureInfo.InvariantCulture, $"{outcome.Status} after {outcome.Steps} steps");
    }

    /// <summary>
    /// Hands the task back. When the database is what failed, the claim simply expires instead and the dispatcher's
    /// sweep gives the task to a new run.
    /// </summary>
    private async Task TryReleaseAsync(long taskId, string owner)
    {
        try
        {
            await store.ReleaseAsync(taskId, owner, CancellationToken.None);
        }
        catch (NpgsqlException ex)
        {
            LogReleaseFailed(ex, taskId);
        }
    }

    /// <summary>Failures that may pass: worth handing the task back and retrying later.</summary>
    private static bool IsTransient(Exception ex) => ex switch
    {
        ModelException model => model.IsTransient || model.Kind is ModelFailureKind.ConnectionLost or ModelFailureKind.Protocol,
        TimeoutException => true, // no free socket in time
        NpgsqlException db => db.IsTransient,
        _ => false,
    };

    private static int RetryCount(PerformContext? context) => context?.GetJobParameter<int>("RetryCount") ?? 0;

    private static bool IsDeleted(PerformContext? context) =>
        context is not null && context.Connection.GetStateData(context.BackgroundJob.Id)?.Name == DeletedState.StateName;

    private async Task HeartbeatAsync(
        long taskId, string owner, TimeSpan lease, RunCancellations.Registration run, CancellationTokenSource abandon, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(lease / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    switch (await store.HeartbeatAsync(taskId, owner, lease, stop))
                    {
                        case null:
                            // Another run took the task over: stop without storing anything more.
                            await abandon.CancelAsync();
                            return;
                        case true:
                            // A cancel whose NOTIFY this process missed.
                            run.Cancel();
                            break;
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    // A missed beat is not fatal: the lease outlives two more intervals.
                    LogHeartbeatFailed(ex, taskId);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run ended.
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Task {TaskId} not claimed: finished, or running elsewhere")]
    private partial void LogNotClaimed(long taskId);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Task {TaskId} {Status} after {Steps} steps")]
    private partial void LogFinished(long taskId, string status, int steps);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Task {TaskId}: the claim was lost; another run took the task over")]
    private partial void LogLeaseLost(long taskId);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Task {TaskId} failed")]
    private partial void LogRunFailed(Exception exception, long taskId);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Task {TaskId}: heartbeat failed")]
    private partial void LogHeartbeatFailed(Exception exception, long taskId);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Task {TaskId}: resuming after {Steps} stored steps (attempt {Attempt})")]
    private partial void LogResuming(long taskId, int steps, int attempt);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Task {TaskId}: could not hand the task back; its claim will expire")]
    private partial void LogReleaseFailed(Exception exception, long taskId);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Task {TaskId}: model {Model} at its cap; retry in {WaitMs:F0} ms")]
    private partial void LogWaitingForModel(long taskId, string model, double waitMs);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Task {TaskId}: transient failure; handed back for a retry")]
    private partial void LogRetrying(Exception exception, long taskId);
}
