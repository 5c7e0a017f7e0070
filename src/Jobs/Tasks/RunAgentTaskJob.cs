using System.Globalization;
using AgentWorker.Jobs.Agent;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The Hangfire job of one task. Ids only as arguments. It claims the task (a duplicate job, or a second
/// executor, finds the claim taken and exits), heartbeats the claim, runs the loop and stores the outcome.
/// </summary>
public sealed partial class RunAgentTaskJob(
    TaskStore store,
    AgentLoop loop,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<RunAgentTaskJob> logger)
{
    private static readonly string s_processOwner =
        Environment.MachineName + ":" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    [JobDisplayName("Agent task #{0}")]
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RunAsync(long taskId, CancellationToken cancellationToken)
    {
        var owner = s_processOwner + ":" + Guid.NewGuid().ToString("N")[..8];
        var lease = options.Value.LeaseDuration;
        var task = await store.ClaimAsync(taskId, owner, lease, cancellationToken);
        if (task is null)
        {
            LogNotClaimed(taskId);
            return "skipped: the task is finished or another run holds it";
        }

        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = HeartbeatAsync(taskId, owner, lease, run);
        TaskOutcome outcome;
        try
        {
            outcome = await loop.RunAsync(task, run.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: hand the task back; Hangfire requeues this job and the next run claims it again.
            await store.ReleaseAsync(taskId, owner, CancellationToken.None);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            outcome = TaskOutcome.Failed(ex is Llm.ModelException ? "model_error" : "internal_error", ex.Message, default, 0);
            LogRunFailed(ex, taskId);
        }
        finally
        {
            await run.CancelAsync();
            await heartbeat;
        }

        if (!await store.FinishAsync(taskId, owner, outcome, CancellationToken.None))
        {
            LogLeaseLost(taskId);
            return "abandoned: the claim was lost to another run";
        }
        LogFinished(taskId, outcome.Status, outcome.Steps);
        if (outcome.Status != "succeeded")
        {
            throw new AgentTaskFailedException(taskId, outcome.ErrorCode ?? "failed", outcome.ErrorMessage);
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"succeeded in {outcome.Steps} steps, {outcome.Usage.InputTokens} input / {outcome.Usage.OutputTokens} output tokens");
    }

    private async Task HeartbeatAsync(long taskId, string owner, TimeSpan lease, CancellationTokenSource run)
    {
        using var timer = new PeriodicTimer(lease / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(run.Token))
            {
                if (!await store.HeartbeatAsync(taskId, owner, lease, run.Token))
                {
                    LogLeaseLost(taskId);
                    await run.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            // The run ended.
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            // A missed beat is not fatal: the lease outlives two more intervals and the next beat may succeed.
            LogHeartbeatFailed(ex, taskId);
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
}
