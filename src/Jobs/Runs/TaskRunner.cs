using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Runs;

/// <summary>The agent loop as a run sees it: runs (or resumes from its checkpoint) one task, storing each step.</summary>
internal delegate Task<TaskOutcome> RunLoop(AgentTask task, Checkpoint checkpoint, IStepSink steps, CancellationToken cancellationToken);

/// <summary>
/// Runs one claimed task and says, once, how the run ended (River's job executor is the model). It imposes the task's
/// deadline on the loop (a timer linked to the run's stop token) and maps what the loop returned or threw, with the
/// stop asked from outside (cancel, shutdown, claim lost), to one <see cref="RunResult"/>. It writes nothing but the
/// steps: <see cref="RunCompleter"/> stores the result.
/// </summary>
internal sealed partial class TaskRunner
{
    /// <summary>Farther than this (even a stored 'infinity') a deadline cannot come during a run.</summary>
    private static readonly TimeSpan s_farDeadline = TimeSpan.FromDays(30);

    private readonly RunStore _store;
    private readonly RunLoop _loop;
    private readonly RunOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TaskRunner> _logger;

    public TaskRunner(RunStore store, AgentLoop loop, IOptions<RunOptions> options, TimeProvider time, ILogger<TaskRunner> logger)
        : this(store, loop.RunAsync, options, time, logger)
    {
    }

    internal TaskRunner(RunStore store, RunLoop loop, IOptions<RunOptions> options, TimeProvider time, ILogger<TaskRunner> logger)
    {
        _store = store;
        _loop = loop;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public async Task<RunResult> RunAsync(TaskRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var task = run.Task;
        var steps = new CountingSink(_store, task.Owner);
        using var deadline = DeadlineTimer(task);
        try
        {
            var checkpoint = task.LastSeq > 0 ? await _store.LoadCheckpointAsync(task.Id, run.Token) : Checkpoint.Empty;
            if (checkpoint.Steps.Count > 0)
            {
                LogResuming(task.Id, checkpoint.Steps.Count, task.Attempt);
            }
            using var bounded = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(run.Token, deadline.Token);
            var outcome = await _loop(task, checkpoint, steps, bounded?.Token ?? run.Token);
            if (run.Requested is { } late && outcome.Status != TaskStatuses.Succeeded)
            {
                // Stopped from outside while the loop wound down: the request decides.
                return Requested(late);
            }
            return new RunResult.Completed(outcome);
        }
        catch (Exception) when (run.Requested is { } requested)
        {
            // Whatever the stop broke (a read, a socket, a statement), the request is why the run ended.
            return Requested(requested);
        }
        catch (ClaimLostException)
        {
            // A step or a call's start found the task taken over before the heartbeat said so: nothing was written.
            return new RunResult.ClaimLost();
        }
        catch (Exception) when (deadline?.IsCancellationRequested == true)
        {
            // Whatever the deadline's cancel broke, the deadline is why the run ended.
            return new RunResult.Deadline(TaskOutcome.Failed(ErrorCodes.Deadline,
                $"The task passed its deadline ({task.Deadline:O}) after {steps.Saved} steps.", steps.Saved));
        }
        catch (Exception ex) when (RunRetries.IsTransient(ex) && task.Retries < _options.MaxRetries)
        {
            return new RunResult.RetryLater(ex, RunRetries.Delay(task.Retries));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRunFailed(ex, task.Id);
            var code = RunRetries.IsTransient(ex) ? RunRetries.ErrorCode(ex) : ex is ModelException ? ErrorCodes.ModelError : ErrorCodes.InternalError;
            var suffix = RunRetries.IsTransient(ex) ? $" (after {task.Retries} retries)" : "";
            return new RunResult.Failed(TaskOutcome.Failed(code, ex.Message + suffix, 0));
        }
    }

    /// <summary>A timer that fires at the task's deadline (at once when it has passed); null when it has none near.</summary>
    private CancellationTokenSource? DeadlineTimer(AgentTask task)
    {
        if (task.Deadline is not { } until)
        {
            return null;
        }
        var left = new DateTimeOffset(DateTime.SpecifyKind(until, DateTimeKind.Utc)) - _time.GetUtcNow();
        return left < s_farDeadline ? new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, _time) : null;
    }

    private static RunResult Requested(StopReason reason) => reason switch
    {
        StopReason.Cancelled => new RunResult.Cancelled(),
        StopReason.Shutdown => new RunResult.HandedBack(),
        _ => new RunResult.ClaimLost(),
    };

    /// <summary>
    /// The run's step sink: the store, writing only while the run holds its claim (<paramref name="owner"/>), counting the
    /// steps this run stored (the deadline's message says them).
    /// </summary>
    private sealed class CountingSink(RunStore store, string owner) : IStepSink
    {
        private int _saved;

        public int Saved => Volatile.Read(ref _saved);

        public async Task SaveAsync(StepRecord record, CancellationToken cancellationToken)
        {
            await store.SaveAsync(record, owner, cancellationToken);
            Interlocked.Increment(ref _saved);
        }

        public Task StartCallAsync(CallStart start, CancellationToken cancellationToken) => store.StartCallAsync(start, owner, cancellationToken);
    }

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Task {TaskId} failed")]
    private partial void LogRunFailed(Exception exception, long taskId);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Task {TaskId}: resuming after {Steps} stored steps (attempt {Attempt})")]
    private partial void LogResuming(long taskId, int steps, int attempt);
}
