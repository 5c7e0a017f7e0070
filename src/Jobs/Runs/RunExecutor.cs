using System.Collections.Concurrent;
using System.Threading.Channels;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// Runs agent tasks in this process as async tasks, up to <see cref="RunOptions.MaxRuns"/> at once. It claims due
/// tasks straight from <c>agent.tasks</c> (as many as it has free slots, in one statement) when a NOTIFY says there
/// is work, when a run ends while every slot was busy, when the next <c>run_at</c> comes, or on the fallback poll.
/// Each run heartbeats through one statement per process per interval, and ends in exactly one guarded write.
/// Every step of a task's life is told to the run observers (<see cref="IRunObserver"/>: the Hangfire mirror).
/// </summary>
internal sealed partial class RunExecutor(
    RunStore store,
    TaskRunner runner,
    RunCompleter completer,
    IEnumerable<IRunObserver> observers,
    ModelWaits waits,
    IProcessNotifier notifier,
    IOptions<RunOptions> options,
    IOptions<LlmOptions> llmOptions,
    RunCapacity capacity,
    RunMetrics metrics,
    TimeProvider time,
    ILogger<RunExecutor> logger) : BackgroundService
{
    public const string TasksChannel = "agent_tasks";
    public const string CancelChannel = "agent_cancel";

    private readonly ConcurrentDictionary<long, TaskRun> _runs = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly RunOptions _options = options.Value;
    private readonly IRunObserver[] _observers = [.. observers];
    private int _active;
    private int _saturated;

    /// <summary>Runs this process takes on at once (<see cref="RunOptions.Slots"/>).</summary>
    public int Slots => capacity.Slots;

    /// <summary>Runs in flight now.</summary>
    public int Active => Volatile.Read(ref _active);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogSlots(Slots, _options.MaxRuns, llmOptions.Value.MaxSockets, ProcessInstance.Id);
        using var beats = new CancellationTokenSource();
        // After a reconnect the loop claims at once: a NOTIFY may have been missed; a missed cancel is caught by the next heartbeat.
        using var due = notifier.Subscribe(TasksChannel, Wake, resync: Wake);
        using var cancelled = notifier.Subscribe(CancelChannel, BeatNow);
        var heartbeat = HeartbeatAsync(beats.Token);
        try
        {
            await ClaimLoopAsync(stoppingToken);
        }
        finally
        {
            // Shutdown: every run hands its task back (queued, due now, steps kept) while its claim is still renewed.
            var running = _runs.Values.ToList();
            foreach (var run in running)
            {
                run.RequestStop(StopReason.Shutdown);
            }
            LogShuttingDown(running.Count);
            await Task.WhenAll(running.Select(r => r.Completion ?? Task.CompletedTask));
            await beats.CancelAsync();
            await heartbeat;
        }
    }

    private async Task ClaimLoopAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await ClaimDueAsync(stoppingToken);
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // A database restart or a lost connection: back off and claim again; nothing was claimed, or the
                // claims expire and are taken over.
                failures++;
                wait = TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(failures, 7))));
                LogClaimFailed(ex, wait.TotalMilliseconds);
            }
            await WaitForWorkAsync(wait, stoppingToken);
        }
    }

    /// <summary>Claims until no slot is free or nothing is due; returns how long to sleep before looking again.</summary>
    private async Task<TimeSpan> ClaimDueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var free = Slots - Active;
            if (free <= 0)
            {
                // A run that ends wakes the loop.
                Volatile.Write(ref _saturated, 1);
                return _options.PollInterval;
            }
            var claim = await store.ClaimAsync(free, ProcessInstance.Id, _options.LeaseDuration, llmOptions.Value.Model ?? "", cancellationToken);
            var snoozed = new List<ClaimedTask>();
            foreach (var task in claim.Tasks)
            {
                if (task.SlotAcquired)
                {
                    Start(task);
                }
                else
                {
                    snoozed.Add(task);
                }
            }
            if (snoozed.Count > 0)
            {
                await SnoozeAsync(snoozed, cancellationToken);
            }
            if (claim.Tasks.Count < free)
            {
                // Nothing more is due now. Due tasks left over are held by another process or wait for their model's
                // cap: look again in a second.
                var next = claim.NextDue is { } due ? (due <= TimeSpan.Zero ? TimeSpan.FromSeconds(1) : due) : _options.PollInterval;
                return next < _options.PollInterval ? next : _options.PollInterval;
            }
        }
    }

    private async Task SnoozeAsync(List<ClaimedTask> tasks, CancellationToken cancellationToken)
    {
        foreach (var task in tasks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var run = new TaskRun(task);
            await completer.CompleteAsync(run, new RunResult.Snoozed(waits.Next(), task.Model ?? llmOptions.Value.Model ?? ""), activity: null);
        }
    }

    private void Start(ClaimedTask task)
    {
        var run = new TaskRun(task);
        if (_runs.TryGetValue(task.Id, out var stale))
        {
            // This process held the task once and lost the claim (its heartbeats failed): the old run stops writing.
            stale.RequestStop(StopReason.LeaseLost);
        }
        _runs[task.Id] = run;
        Interlocked.Increment(ref _active);
        foreach (var observer in _observers)
        {
            observer.Claimed(task);
        }
        if (task.CancelRequested)
        {
            run.RequestStop(StopReason.Cancelled);
        }
        run.Completion = Task.Run(() => RunAsync(run));
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    private async Task WaitForWorkAsync(TimeSpan wait, CancellationToken stoppingToken)
    {
        using var timeout = new CancellationTokenSource(wait, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            await _wake.Reader.ReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // Time to look again.
        }
        catch (OperationCanceledException)
        {
            // Stopping: the claim loop ends.
        }
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information,
        Message = "Run executor {Owner}: {Slots} runs at once (Worker:MaxRuns {MaxRuns}, Llm:MaxSockets {MaxSockets})")]
    private partial void LogSlots(int slots, int maxRuns, int maxSockets, string owner);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Error, Message = "Claiming tasks failed; trying again in {DelayMs:F0} ms")]
    private partial void LogClaimFailed(Exception exception, double delayMs);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Stopping: handing {Count} runs back to the queue")]
    private partial void LogShuttingDown(int count);
}
