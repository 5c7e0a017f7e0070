using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using Npgsql;

namespace AgentWorker.Tests.Runs;

/// <summary>
/// A run whose claim expired while it was alive (a stalled process) and was taken over must not start a call or store
/// a step: the new run may be running the same call, and a tool with side effects would take effect twice.
/// </summary>
public sealed class RunStoreClaimGuardTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private NpgsqlDataSource _dataSource = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_db.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static StepRecord Step(ClaimedTask task, int seq, bool journaled, string callId) => new()
    {
        TaskId = task.Id,
        Attempt = task.Attempt,
        Seq = seq,
        Kind = StepKinds.Tool,
        StartedAt = TimeProvider.System.GetUtcNow(),
        FinishedAt = TimeProvider.System.GetUtcNow(),
        DurationMs = 1,
        ToolName = "refund",
        CallId = callId,
        Arguments = "{}",
        Journaled = journaled,
        Items = "[]",
    };

    private static CallStart Start(ClaimedTask task, string callId) =>
        new(task.Id, task.Attempt, callId, "refund", $"agentworker:{task.Id}:{callId}", Idempotent: false);

    [Fact]
    public async Task ClaimTakenOver_TheOldRunStartsNoCallAndStoresNoStep_TheNewRunDoes()
    {
        var store = new RunStore(_dataSource);
        var id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'Refund order o-1.')");
        var first = Assert.Single((await store.ClaimAsync(1, "host-a:1", TimeSpan.FromMinutes(1), "sim-1", Ct)).Tasks);
        // Its heartbeat stalled: the claim expired and another process took the task over.
        await _db.ScalarAsync<int>("update agent.tasks set lease_expires_at = now() - interval '1 second' where id = @id", new { id });
        var second = Assert.Single((await store.ClaimAsync(1, "host-b:2", TimeSpan.FromMinutes(1), "sim-1", Ct)).Tasks);
        Assert.Equal(id, second.Id);
        Assert.NotEqual(first.Owner, second.Owner);

        await Assert.ThrowsAsync<ClaimLostException>(() => store.StartCallAsync(Start(first, "call_1"), first.Owner, Ct));
        await Assert.ThrowsAsync<ClaimLostException>(() => store.SaveAsync(Step(first, 1, journaled: false, "call_0"), first.Owner, Ct));
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.tool_calls where task_id = @id", new { id }));
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.steps where task_id = @id", new { id }));

        await store.StartCallAsync(Start(second, "call_1"), second.Owner, Ct);
        Assert.Equal(1L, await _db.ScalarAsync<long>("select count(*) from agent.tool_calls where task_id = @id and finished_at is null", new { id }));
        // The old run's step for the same call would also finish the new run's journal entry: it must not.
        await Assert.ThrowsAsync<ClaimLostException>(() => store.SaveAsync(Step(first, 1, journaled: true, "call_1"), first.Owner, Ct));
        Assert.Equal(1L, await _db.ScalarAsync<long>("select count(*) from agent.tool_calls where task_id = @id and finished_at is null", new { id }));

        await store.SaveAsync(Step(second, 1, journaled: true, "call_1"), second.Owner, Ct);
        Assert.Equal(1L, await _db.ScalarAsync<long>("select count(*) from agent.steps where task_id = @id and attempt = @Attempt", new { id, second.Attempt }));
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.tool_calls where task_id = @id and finished_at is null", new { id }));
    }
}
