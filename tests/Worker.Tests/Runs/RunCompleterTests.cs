using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Tests.Runs;

/// <summary>
/// Each run result is one statement guarded by the run's claim, then its run event: what each one leaves in
/// <c>agent.tasks</c>, and that a run which lost its claim changes nothing and tells nothing.
/// </summary>
public sealed class RunCompleterTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private NpgsqlDataSource _dataSource = null!;
    private ServiceProvider _meters = null!;
    private readonly Recorder _events = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_db.ConnectionString);
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    }

    public async ValueTask DisposeAsync()
    {
        await _meters.DisposeAsync();
        await _dataSource.DisposeAsync();
        await _db.DisposeAsync();
    }

    /// <summary>The run events, in order, as text.</summary>
    private sealed class Recorder : IRunObserver
    {
        public List<string> Events { get; } = [];

        public void Claimed(ClaimedTask task) => Events.Add($"claimed {task.Id}");

        public void Waiting(ClaimedTask task, DateTimeOffset until, string reason) => Events.Add($"waiting {task.Id}: {reason}");

        public void RetryLater(ClaimedTask task, DateTimeOffset at, string reason) => Events.Add($"retry {task.Id}: {reason}");

        public void Finished(ClaimedTask task, TaskOutcome outcome, string? cancelReason, TimeSpan duration) =>
            Events.Add($"finished {task.Id}: {outcome.Status} {outcome.ErrorMessage}");
    }

    private RunCompleter Completer() => new(new RunStore(_dataSource), [_events], new RunMetrics(_meters.GetRequiredService<IMeterFactory>()),
        Options.Create(new RunOptions { MaxRetries = 5 }), TimeProvider.System, NullLogger<RunCompleter>.Instance);

    /// <summary>A task enqueued and claimed by this test, as the executor would.</summary>
    private async Task<TaskRun> ClaimAsync()
    {
        var id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders are there?')");
        var claim = await new RunStore(_dataSource).ClaimAsync(1, "test:1", TimeSpan.FromMinutes(1), "sim-1", Ct);
        return new TaskRun(Assert.Single(claim.Tasks, t => t.Id == id));
    }

    private async Task<(string Status, string? ErrorCode, string? ErrorMessage, int Retries, int Snoozes, bool Due, bool Claimed)> RowAsync(long id)
    {
        await using var connection = _db.Open();
        return await Dapper.SqlMapper.QuerySingleAsync<(string, string?, string?, int, int, bool, bool)>(connection, """
            select status, error_code, error_message, retries, snoozes, run_at <= now(), lease_owner is not null
              from agent.tasks where id = @id
            """, new { id });
    }

    [Fact]
    public async Task Completed_StoresTheOutcome_ThenTellsItFinished()
    {
        using var run = await ClaimAsync();

        await Completer().CompleteAsync(run, new RunResult.Completed(TaskOutcome.Succeeded("42 orders", 1)), null);

        Assert.Equal(("succeeded", null, null, 0, 0, true, false), await RowAsync(run.Id));
        Assert.Equal([$"finished {run.Id}: succeeded "], _events.Events);
    }

    [Fact]
    public async Task Deadline_FailsTheTaskWithTheDeadlineCode()
    {
        using var run = await ClaimAsync();

        await Completer().CompleteAsync(run, new RunResult.Deadline(TaskOutcome.Failed(ErrorCodes.Deadline, "passed its deadline", 0)), null);

        Assert.Equal(("failed", ErrorCodes.Deadline, "passed its deadline", 0, 0, true, false), await RowAsync(run.Id));
    }

    [Fact]
    public async Task Cancelled_StoresWhoCancelled()
    {
        using var run = await ClaimAsync();
        await _db.ScalarAsync<string>("select agent.cancel(@id, 'the test')", new { id = run.Id });

        await Completer().CompleteAsync(run, new RunResult.Cancelled(), null);

        var row = await RowAsync(run.Id);
        Assert.Equal(("cancelled", ErrorCodes.Cancelled), (row.Status, row.ErrorCode));
        Assert.Equal("cancelled while running (the test); the steps done are kept", row.ErrorMessage);
        Assert.Equal([$"finished {run.Id}: cancelled {row.ErrorMessage}"], _events.Events);
    }

    [Fact]
    public async Task RetryLater_QueuesTheTaskForLater_UsingOneRetry()
    {
        using var run = await ClaimAsync();

        await Completer().CompleteAsync(run, new RunResult.RetryLater(new TimeoutException("no socket in time"), TimeSpan.FromMinutes(5)), null);

        Assert.Equal(("queued", ErrorCodes.ModelError, "no socket in time", 1, 0, false, false), await RowAsync(run.Id));
        Assert.Equal([$"retry {run.Id}: retry 1 of 5 after model_error: no socket in time"], _events.Events);
    }

    [Fact]
    public async Task HandedBack_QueuesTheTaskDueNow_WithoutARetry()
    {
        using var run = await ClaimAsync();

        await Completer().CompleteAsync(run, new RunResult.HandedBack(), null);

        Assert.Equal(("queued", null, null, 0, 0, true, false), await RowAsync(run.Id));
        Assert.StartsWith($"waiting {run.Id}: handed back", Assert.Single(_events.Events), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snoozed_QueuesTheTaskWithoutUsingAnAttempt()
    {
        using var run = await ClaimAsync();

        await Completer().CompleteAsync(run, new RunResult.Snoozed(TimeSpan.FromMinutes(1), "sim-1"), null);

        Assert.Equal(("queued", null, null, 0, 1, false, false), await RowAsync(run.Id));
        Assert.Equal(0, await _db.ScalarAsync<int>("select attempt from agent.tasks where id = @id", new { id = run.Id }));
        Assert.Equal([$"waiting {run.Id}: model sim-1 is at its concurrency cap"], _events.Events);
    }

    [Fact]
    public async Task ClaimLost_WritesAndTellsNothing()
    {
        using var run = await ClaimAsync();

        await Completer().CompleteAsync(run, new RunResult.ClaimLost(), null);

        Assert.Equal(("running", null, null, 0, 0, true, true), await RowAsync(run.Id));
        Assert.Empty(_events.Events);
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("retry")]
    [InlineData("handed back")]
    public async Task AnyResult_OfARunWhoseClaimWasTakenOver_ChangesNothing(string result)
    {
        using var run = await ClaimAsync();
        await _db.ScalarAsync<int>("update agent.tasks set lease_owner = 'another:1' where id = @id", new { id = run.Id });
        RunResult ended = result switch
        {
            "completed" => new RunResult.Completed(TaskOutcome.Succeeded("late", 1)),
            "retry" => new RunResult.RetryLater(new TimeoutException("late"), TimeSpan.FromSeconds(5)),
            _ => new RunResult.HandedBack(),
        };

        await Completer().CompleteAsync(run, ended, null);

        Assert.Equal(("running", null, null, 0, 0, true, true), await RowAsync(run.Id));
        Assert.Empty(_events.Events);
    }
}
