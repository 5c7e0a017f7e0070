using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace AgentWorker.Tests.Runs;

/// <summary>
/// The run result table: what the loop returned or threw, the stop asked from outside and the deadline, mapped to one
/// <see cref="RunResult"/>. No database: the tasks have no stored steps, and the fake loops store none.
/// </summary>
public sealed class TaskRunnerTests : IDisposable
{
    private static readonly DateTimeOffset s_now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(s_now);
    private readonly NpgsqlDataSource _nowhere = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Database=none;Username=none");

    public void Dispose() => _nowhere.Dispose();

    private TaskRunner Runner(RunLoop loop, int maxRetries = 5) => new(
        new RunStore(_nowhere), loop, Options.Create(new RunOptions { MaxRetries = maxRetries }), _time, NullLogger<TaskRunner>.Instance);

    private static TaskRun Run(DateTime? deadline = null, int retries = 0) => new(new ClaimedTask
    {
        Id = 7, Prompt = "p", MaxSteps = 10, Attempt = 1, LastSeq = 0, Owner = "me:7:1", Retries = retries, SlotAcquired = true,
        Deadline = deadline,
    });

    /// <summary>A loop that waits until its token is cancelled (the model is slow).</summary>
    private static async Task<TaskOutcome> Hang(AgentTask task, Checkpoint checkpoint, IStepSink steps, CancellationToken token)
    {
        await Task.Delay(Timeout.Infinite, token);
        throw new InvalidOperationException("unreachable");
    }

    [Fact]
    public async Task RunAsync_LoopReturns_IsCompletedWithItsOutcome()
    {
        var outcome = TaskOutcome.Failed(ErrorCodes.MaxSteps, "still calling tools", 3);
        using var run = Run();

        var result = await Runner((_, _, _, _) => Task.FromResult(outcome)).RunAsync(run);

        Assert.Equal(new RunResult.Completed(outcome), result);
    }

    [Fact]
    public async Task RunAsync_DeadlinePassesDuringTheLoop_IsDeadlineNamingIt()
    {
        var deadline = s_now.UtcDateTime.AddSeconds(30);
        using var run = Run(deadline);
        var running = Runner(Hang).RunAsync(run);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(running.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var ended = Assert.IsType<RunResult.Deadline>(result);
        Assert.Equal(ErrorCodes.Deadline, ended.Outcome.ErrorCode);
        Assert.Equal($"The task passed its deadline ({deadline:O}) after 0 steps.", ended.Outcome.ErrorMessage);
        Assert.Equal("Deadline", result.Name);
    }

    [Fact]
    public async Task RunAsync_DeadlinePassedBeforeTheRun_IsDeadline()
    {
        using var run = Run(s_now.UtcDateTime.AddMinutes(-1));

        var result = await Runner(Hang).RunAsync(run).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.IsType<RunResult.Deadline>(result);
    }

    [Fact]
    public async Task RunAsync_DeadlineFarAway_DoesNotStopTheLoop()
    {
        using var run = Run(DateTime.MaxValue);
        var running = Runner(Hang).RunAsync(run);

        _time.Advance(TimeSpan.FromDays(365));
        Assert.False(running.IsCompleted);
        run.RequestStop(StopReason.Cancelled);

        Assert.IsType<RunResult.Cancelled>(await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("Cancelled", typeof(RunResult.Cancelled), "Cancelled")]
    [InlineData("Shutdown", typeof(RunResult.HandedBack), "Shutdown")]
    [InlineData("LeaseLost", typeof(RunResult.ClaimLost), "LeaseLost")]
    public async Task RunAsync_StopAskedFromOutside_TheRequestDecides(string stop, Type expected, string name)
    {
        using var run = Run(s_now.UtcDateTime.AddSeconds(30));
        var running = Runner(Hang).RunAsync(run);

        run.RequestStop(Enum.Parse<StopReason>(stop));
        _time.Advance(TimeSpan.FromMinutes(1)); // the deadline passing afterwards changes nothing
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.IsType(expected, result);
        Assert.Equal(name, result.Name);
    }

    [Fact]
    public async Task RunAsync_StopAskedWhileTheLoopFailedItsOwnWay_TheRequestDecides()
    {
        using var run = Run();
        var result = await Runner((_, _, _, _) =>
        {
            run.RequestStop(StopReason.Cancelled);
            return Task.FromResult(TaskOutcome.Failed(ErrorCodes.ToolErrors, "tools failed", 2));
        }).RunAsync(run);

        Assert.IsType<RunResult.Cancelled>(result);
    }

    [Fact]
    public async Task RunAsync_StopAskedAfterTheLoopSucceeded_KeepsTheSuccess()
    {
        using var run = Run();
        var outcome = TaskOutcome.Succeeded("done", 1);
        var result = await Runner((_, _, _, _) =>
        {
            run.RequestStop(StopReason.Cancelled);
            return Task.FromResult(outcome);
        }).RunAsync(run);

        Assert.Equal(new RunResult.Completed(outcome), result);
    }

    [Fact]
    public async Task RunAsync_TransientFailureWithRetriesLeft_IsRetryLater()
    {
        var failure = new ModelException(ModelFailureKind.ConnectionLost, "socket dropped");
        using var run = Run(retries: 1);

        var result = await Runner((_, _, _, _) => throw failure).RunAsync(run);

        var retry = Assert.IsType<RunResult.RetryLater>(result);
        Assert.Same(failure, retry.Failure);
        Assert.InRange(retry.Delay, TimeSpan.FromSeconds(18), TimeSpan.FromSeconds(22)); // the second retry's 20 s, ±10 %
    }

    [Fact]
    public async Task RunAsync_TransientFailureWithNoRetryLeft_FailsSayingSo()
    {
        using var run = Run(retries: 2);

        var result = await Runner((_, _, _, _) => throw new TimeoutException("no socket in time"), maxRetries: 2).RunAsync(run);

        var failed = Assert.IsType<RunResult.Failed>(result);
        Assert.Equal(ErrorCodes.ModelError, failed.Outcome.ErrorCode);
        Assert.Equal("no socket in time (after 2 retries)", failed.Outcome.ErrorMessage);
    }

    [Fact]
    public async Task RunAsync_PermanentFailure_FailsWithItsCode()
    {
        using var run = Run();

        var result = await Runner((_, _, _, _) => throw new InvalidOperationException("a bug")).RunAsync(run);

        var failed = Assert.IsType<RunResult.Failed>(result);
        Assert.Equal(ErrorCodes.InternalError, failed.Outcome.ErrorCode);
        Assert.Equal("a bug", failed.Outcome.ErrorMessage);
    }
}
