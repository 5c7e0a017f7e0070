using System.Diagnostics;
using System.Globalization;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// Stores how a run ended (River's job completer is the model): each <see cref="RunResult"/> is one statement guarded
/// by the run's claim, so a run that lost its claim changes nothing. Then the run's span, metrics and log say it, and
/// the run events go out (<see cref="IRunObserver"/>: the Hangfire mirror).
/// </summary>
internal sealed partial class RunCompleter(
    RunStore store,
    IEnumerable<IRunObserver> observers,
    RunMetrics metrics,
    IOptions<RunOptions> options,
    TimeProvider time,
    ILogger<RunCompleter> logger)
{
    private readonly IRunObserver[] _observers = [.. observers];
    private readonly RunOptions _options = options.Value;

    /// <summary>Writes <paramref name="result"/> for <paramref name="run"/>; the write is tried again while the database is briefly away.</summary>
    public async Task CompleteAsync(TaskRun run, RunResult result, Activity? activity)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(result);
        var task = run.Task;
        activity?.SetTag("agent.run.end", result.Name);
        switch (result)
        {
            case RunResult.Completed(var outcome):
                await FinishAsync(run, outcome, result, activity);
                break;
            case RunResult.Failed(var outcome):
                await FinishAsync(run, outcome, result, activity);
                break;
            case RunResult.Deadline(var outcome):
                await FinishAsync(run, outcome, result, activity);
                break;
            case RunResult.Cancelled cancelled:
                await FinishAsync(run, cancelled.Outcome, result, activity);
                break;
            case RunResult.RetryLater(var failure, var delay):
                var code = RunRetries.ErrorCode(failure);
                LogRetrying(failure, task.Id, task.Retries + 1, _options.MaxRetries, delay.TotalSeconds);
                RunTelemetry.Failed(activity, failure);
                if (await StoreEndAsync(run, () => store.RetryAsync(task.Id, task.Owner, delay, code, failure.Message, CancellationToken.None)))
                {
                    var reason = string.Create(CultureInfo.InvariantCulture,
                        $"retry {task.Retries + 1} of {_options.MaxRetries} after {code}: {failure.Message}");
                    Raise(o => o.RetryLater(task, time.GetUtcNow() + delay, reason));
                }
                break;
            case RunResult.Snoozed(var wait, var model):
                // Never started: a failure here goes to the claim loop, and the claim expires if it lasts.
                await store.SnoozeAsync([task.Id], [task.Owner], wait, CancellationToken.None);
                Raise(o => o.Waiting(task, time.GetUtcNow() + wait, $"model {model} is at its concurrency cap"));
                LogWaitingForModel(task.Id, model, wait.TotalMilliseconds);
                break;
            case RunResult.HandedBack:
                if (await StoreEndAsync(run, () => store.HandBackAsync(task.Id, task.Owner, CancellationToken.None)))
                {
                    Raise(o => o.Waiting(task, time.GetUtcNow(), "handed back when its worker stopped; the next run resumes from its steps"));
                }
                break;
            case RunResult.ClaimLost:
                LogLeaseLost(task.Id);
                break;
        }
    }

    /// <summary>A final status: stored with the result, usage and error in one statement.</summary>
    private async Task FinishAsync(TaskRun run, TaskOutcome outcome, RunResult result, Activity? activity)
    {
        var task = run.Task;
        var finished = await StoreEndAsync(run, () => store.FinishAsync(task.Id, task.Owner, outcome, CancellationToken.None));
        if (finished is null)
        {
            LogLeaseLost(task.Id);
            return;
        }
        LogFinished(task.Id, outcome.Status, outcome.Steps, result.Name);
        RunTelemetry.RunDone(activity, outcome);
        metrics.TaskFinished(outcome);
        var stored = outcome with { ErrorMessage = finished.ErrorMessage ?? outcome.ErrorMessage };
        Raise(o => o.Finished(task, stored, finished.CancelReason, run.Clock.Elapsed));
    }

    private void Raise(Action<IRunObserver> raise)
    {
        foreach (var observer in _observers)
        {
            raise(observer);
        }
    }

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

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Task {TaskId} {Status} after {Steps} steps ({Reason})")]
    private partial void LogFinished(long taskId, string status, int steps, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Task {TaskId}: the claim was lost; another run took the task over")]
    private partial void LogLeaseLost(long taskId);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Task {TaskId}: transient failure; retry {Retry} of {MaxRetries} in {DelaySeconds:F0} s")]
    private partial void LogRetrying(Exception exception, long taskId, int retry, int maxRetries, double delaySeconds);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Task {TaskId}: model {Model} at its cap; retry in {WaitMs:F0} ms")]
    private partial void LogWaitingForModel(long taskId, string model, double waitMs);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug, Message = "Task {TaskId}: storing how its run ended failed; trying again in {DelayMs:F0} ms")]
    private partial void LogWriteRetrying(Exception exception, long taskId, double delayMs);
}
