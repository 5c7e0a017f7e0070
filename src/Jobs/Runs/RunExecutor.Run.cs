using Microsoft.Extensions.Logging;

namespace AgentWorker.Jobs.Runs;

internal sealed partial class RunExecutor
{
    /// <summary>One run: <see cref="TaskRunner"/> decides how it ended, <see cref="RunCompleter"/> stores that.</summary>
    private async Task RunAsync(TaskRun run)
    {
        var task = run.Task;
        // The run's span: the model turns and tool calls below are its children.
        using var activity = RunTelemetry.StartRun(task.Id, task.Attempt, task.Model ?? llmOptions.Value.Model, task.TraceParent);
        if (task.QueueWaitSeconds is { } waited)
        {
            metrics.QueueWait(waited);
        }
        try
        {
            var result = await runner.RunAsync(run);
            await completer.CompleteAsync(run, result, activity);
        }
        catch (Exception ex)
        {
            // Never lost: the claim expires and the task is taken over, resuming after its last stored step.
            RunTelemetry.Failed(activity, ex);
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

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Task {TaskId}: could not store how its run ended; its claim will expire and another run resumes it")]
    private partial void LogWriteFailed(Exception exception, long taskId);
}
