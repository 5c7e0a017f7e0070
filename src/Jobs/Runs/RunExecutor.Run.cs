using System.Diagnostics;
using System.Globalization;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Telemetry;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Jobs.Runs;

internal sealed partial class RunExecutor
{
    /// <summary>How a run ended: the reason, and the outcome to store or the failure to retry.</summary>
    private readonly record struct RunEnd(StopReason Reason, TaskOutcome? Outcome = null, Exception? Failure = null);

    private async Task RunAsync(TaskRun run)
    {
        var task = run.Task;
        // The run's span: the model turns and tool calls below are its children.
        using var activity = AgentTelemetry.StartRun(task.Id, task.Attempt, task.Model ?? llmOptions.Value.Model, task.TraceParent);
        if (task.QueueWaitSeconds is { } waited)
        {
            metrics.QueueWait(waited);
        }
        try
        {
            var end = await ExecuteAsync(run);
            await WriteAsync(run, end, activity);
        }
        catch (Exception ex)
        {
            // Never lost: the claim expires and the task is taken over, resuming after its last stored step.
            AgentTelemetry.Failed(activity, ex);
            LogWriteFailed(ex, run.Id);
        }
        finally
        {
            _runs.TryRemove(new KeyValuePair<long, TaskRun>(run.Id, run));
            run.Dispose();
            Interlocked.Decrement(ref _active);
            if (Interlocked.Exchange(ref _saturated, 0) == 1)
            {
                Wake();
            }
        }
    }

    /// <summary>Runs the loop and decides, once, why the run ended.</summary>
    private async Task<RunEnd> ExecuteAsync(TaskRun run)
    {
        var task = run.Task;
        try
        {
            var checkpoint = task.LastSeq > 0 ? await store.LoadCheckpointAsync(task.Id, run.Token) : [];
            if (checkpoint.Count > 0)
            {
                LogResuming(task.Id, checkpoint.Count, task.Attempt);
            }
            var outcome = await loop.RunAsync(task, checkpoint, store, run.Token);
            if (run.Requested is { } late && outcome.Status != TaskStatuses.Succeeded)
            {
                // Stopped from outside while the loop wound down: the request decides.
                return Requested(late);
            }
            return outcome.ErrorCode == ErrorCodes.Deadline ? new RunEnd(StopReason.Deadline, outcome)
                : new RunEnd(StopReason.Completed, outcome);
        }
        catch (Exception) when (run.Requested is { } requested)
        {
            // Whatever the stop broke (a read, a socket, a statement), the request is why the run ended.
            return Requested(requested);
        }
        catch (Exception ex) when (RunRetries.IsTransient(ex) && task.Retries < _options.MaxRetries)
        {
            return new RunEnd(StopReason.Retry, Failure: ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRunFailed(ex, task.Id);
            var code = RunRetries.IsTransient(ex) ? RunRetries.ErrorCode(ex) : ex is ModelException ? ErrorCodes.ModelError : ErrorCodes.InternalError;
            var suffix = RunRetries.IsTransient(ex) ? $" (after {task.Retries} retries)" : "";
            return new RunEnd(StopReason.Failed, TaskOutcome.Failed(code, ex.Message + suffix, 0), ex);
        }
    }

    private static RunEnd Requested(StopReason reason) => reason == StopReason.Cancelled
        ? new RunEnd(StopReason.Cancelled, TaskOutcome.Cancelled("cancelled while running"))
        : new RunEnd(reason);

    /// <summary>
    /// A guarded statement that reports the run's end, tried again while the database is briefly away. The fault that
    /// failed the run (a restart, the connections it left dead in the pool) mostly fails this write too, and a run that
    /// cannot report its end leaves its task to a take-over a whole lease later instead of a retry 5 s later
    /// (bench/results/faults.md). The run is still registered, so its claim is renewed meanwhile; tried for a lease at
    /// most: a claim the heartbeats could not renew that long is taken over anyway (and the guarded write then changes
    /// nothing).
    /// </summary>
    private async Task<T> StoreEndAsync<T>(TaskRun run, Func<Task<T>> write)
    {
        var started = time.GetTimestamp();
        var wait = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await write();
            }
            catch (Exception ex) when (RunRetries.IsTransient(ex) && time.GetElapsedTime(started) + wait < _options.LeaseDuration)
            {
                LogWriteRetrying(ex, run.Id, wait.TotalMilliseconds);
                await Task.Delay(wait, time, CancellationToken.None);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>The one write of a run, by its stop reason; then Hangfire's mirror is told.</summary>
    private async Task WriteAsync(TaskRun run, RunEnd end, Activity? activity)
    {
        var task = run.Task;
        activity?.SetTag("agent.run.end", end.Reason.ToString());
        switch (end.Reason)
        {
            case StopReason.Completed or StopReason.Failed or StopReason.Deadline or StopReason.Cancelled:
                var outcome = end.Outcome!;
                var finished = await StoreEndAsync(run, () => store.FinishAsync(task.Id, task.Owner, outcome, CancellationToken.None));
                if (finished is null)
                {
                    LogLeaseLost(task.Id);
                    return;
                }
                LogFinished(task.Id, outcome.Status, outcome.Steps, end.Reason);
                AgentTelemetry.RunDone(activity, outcome);
                metrics.TaskFinished(outcome);
                mirror.Finished(task, outcome with { ErrorMessage = finished.ErrorMessage ?? outcome.ErrorMessage }, finished.CancelReason,
                    run.Clock.Elapsed);
                break;
            case StopReason.Retry:
                var delay = RunRetries.Delay(task.Retries);
                var failure = end.Failure!;
                var code = RunRetries.ErrorCode(failure);
                LogRetrying(failure, task.Id, task.Retries + 1, _options.MaxRetries, delay.TotalSeconds);
                AgentTelemetry.Failed(activity, failure);
                if (await StoreEndAsync(run, () => store.RetryAsync(task.Id, task.Owner, delay, code, failure.Message, CancellationToken.None)))
                {
                    mirror.Waiting(task, time.GetUtcNow() + delay, string.Create(CultureInfo.InvariantCulture,
                        $"retry {task.Retries + 1} of {_options.MaxRetries} after {code}: {failure.Message}"));
                }
                break;
            case StopReason.Shutdown:
                if (await StoreEndAsync(run, () => store.HandBackAsync(task.Id, task.Owner, CancellationToken.None)))
                {
                    mirror.Waiting(task, time.GetUtcNow(), "handed back when its worker stopped; the next run resumes from its steps");
                }
                break;
            case StopReason.LeaseLost:
                LogLeaseLost(task.Id);
                break;
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Task {TaskId} {Status} after {Steps} steps ({Reason})")]
    private partial void LogFinished(long taskId, string status, int steps, StopReason reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Task {TaskId}: the claim was lost; another run took the task over")]
    private partial void LogLeaseLost(long taskId);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Task {TaskId} failed")]
    private partial void LogRunFailed(Exception exception, long taskId);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Task {TaskId}: resuming after {Steps} stored steps (attempt {Attempt})")]
    private partial void LogResuming(long taskId, int steps, int attempt);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Task {TaskId}: transient failure; retry {Retry} of {MaxRetries} in {DelaySeconds:F0} s")]
    private partial void LogRetrying(Exception exception, long taskId, int retry, int maxRetries, double delaySeconds);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Task {TaskId}: could not store how its run ended; its claim will expire and another run resumes it")]
    private partial void LogWriteFailed(Exception exception, long taskId);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug, Message = "Task {TaskId}: storing how its run ended failed; trying again in {DelayMs:F0} ms")]
    private partial void LogWriteRetrying(Exception exception, long taskId, double delayMs);
}
