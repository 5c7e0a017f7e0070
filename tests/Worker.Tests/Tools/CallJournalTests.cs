using System.Collections.Concurrent;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Tools;

/// <summary>
/// Side effects a resume never repeats: a call of a tool with side effects is journaled, a finished call is replayed
/// from its stored output, a call cut off mid-way is "in doubt" until the operator decides (or re-run, when the tool is
/// idempotent by key). The real loop, run store, journal and simulator; each run is stopped where the test says.
/// </summary>
public sealed class CallJournalTests
{
    private const string Prompt = """Refund it: [call:refund]{"order_id":"o-1"}[/call]""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A refund tool that records each call's key, and hangs on the calls the test says (a worker dying mid-call).</summary>
    private sealed class Refunds
    {
        public ConcurrentQueue<string> Keys { get; } = new();

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int HangOnCall { get; init; } = 1;

        public void Register(IAgentWorkerBuilder worker, ToolSideEffects effects) => worker.AddTool(
            async (string order_id, ToolCallContext call, CancellationToken cancellationToken) =>
            {
                Keys.Enqueue(call.IdempotencyKey);
                if (Keys.Count == HangOnCall)
                {
                    Entered.TrySetResult();
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                return $"refunded {order_id}";
            },
            "refund", "Refunds an order.", new AgentToolOptions { SideEffects = effects });
    }

    /// <summary>Attempt 1 is cut off while the refund runs (the run's token cancelled, as a dying worker's would be).</summary>
    private static async Task<long> CutOffMidCallAsync(ToolWorld world, Refunds refunds)
    {
        var id = await world.EnqueueAsync(Prompt);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = world.RunAsync(id, Prompt, ["refund"], attempt: 1, stop.Token);
        await refunds.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        return id;
    }

    /// <summary>What <c>RunCompleter</c> would store for the outcome (no executor runs here).</summary>
    private static Task<int> StoreFailedAsync(ToolWorld world, long id, TaskOutcome outcome) => world.Database.ScalarAsync<int>(
        "update agent.tasks set status = 'failed', finished_at = now(), error_code = @ErrorCode, error_message = @ErrorMessage where id = @id returning 1",
        new { id, outcome.ErrorCode, outcome.ErrorMessage });

    [Fact]
    public async Task CallCutOffMidway_IsInDoubt_NamingToolCallAndKey_AndIsNotRunAgain()
    {
        var refunds = new Refunds();
        await using var world = await ToolWorld.StartAsync(w => refunds.Register(w, ToolSideEffects.SideEffects));
        var id = await CutOffMidCallAsync(world, refunds);
        var callId = await world.Database.ScalarAsync<string>("select call_id from agent.tool_calls where task_id = @id and finished_at is null", new { id });

        var outcome = await world.RunAsync(id, Prompt, ["refund"], attempt: 2, Ct);

        Assert.Equal((TaskStatuses.Failed, ErrorCodes.ToolInDoubt), (outcome.Status, outcome.ErrorCode));
        Assert.Contains("refund", outcome.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(callId, outcome.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains($"agentworker:{id}:{callId}", outcome.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("in_doubt => 'rerun'", outcome.ErrorMessage, StringComparison.Ordinal);
        Assert.Single(refunds.Keys); // not run again
    }

    [Fact]
    public async Task InDoubt_RetryWithoutDecision_ChangesNothing_Skip_TellsTheModel_AndNeverCallsAgain()
    {
        var refunds = new Refunds();
        await using var world = await ToolWorld.StartAsync(w => refunds.Register(w, ToolSideEffects.SideEffects));
        var id = await CutOffMidCallAsync(world, refunds);
        await StoreFailedAsync(world, id, await world.RunAsync(id, Prompt, ["refund"], attempt: 2, Ct));
        var tasks = world.Services.GetRequiredService<ITaskClient>();

        Assert.Equal(RetryOutcome.InDoubt, await tasks.RetryAsync(id, null, Ct));
        Assert.Equal("failed", await world.Database.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id }));
        Assert.Equal(RetryOutcome.Queued, await tasks.RetryAsync(id, null, InDoubtDecision.Skip, Ct));
        var outcome = await world.RunAsync(id, Prompt, ["refund"], attempt: 3, Ct);

        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        Assert.Contains("refund: ERROR: An operator skipped this call", outcome.ResultText, StringComparison.Ordinal);
        Assert.Single(refunds.Keys);
        Assert.Equal(("skip", true), (
            await world.Database.ScalarAsync<string>("select resolution from agent.tool_calls where task_id = @id", new { id }),
            await world.Database.ScalarAsync<bool>("select finished_at is not null from agent.tool_calls where task_id = @id", new { id })));
    }

    [Fact]
    public async Task InDoubt_Rerun_CallsTheToolAgain_WithTheSameKey()
    {
        var refunds = new Refunds();
        await using var world = await ToolWorld.StartAsync(w => refunds.Register(w, ToolSideEffects.SideEffects));
        var id = await CutOffMidCallAsync(world, refunds);
        await StoreFailedAsync(world, id, await world.RunAsync(id, Prompt, ["refund"], attempt: 2, Ct));

        Assert.Equal(RetryOutcome.Queued, await world.Services.GetRequiredService<ITaskClient>().RetryAsync(id, null, InDoubtDecision.Rerun, Ct));
        var outcome = await world.RunAsync(id, Prompt, ["refund"], attempt: 3, Ct);

        Assert.Equal((TaskStatuses.Succeeded, "refund: refunded o-1"), (outcome.Status, outcome.ResultText));
        Assert.Equal(2, refunds.Keys.Count);
        Assert.Single(refunds.Keys.Distinct());
        Assert.Equal(2, await world.Database.ScalarAsync<int>("select runs from agent.tool_calls where task_id = @id", new { id }));
    }

    [Fact]
    public async Task IdempotentTool_CutOffMidway_IsRunAgainWithTheSameKey_WithoutAnOperator()
    {
        var refunds = new Refunds();
        await using var world = await ToolWorld.StartAsync(w => refunds.Register(w, ToolSideEffects.Idempotent));
        var id = await CutOffMidCallAsync(world, refunds);

        var outcome = await world.RunAsync(id, Prompt, ["refund"], attempt: 2, Ct);

        Assert.Equal((TaskStatuses.Succeeded, "refund: refunded o-1"), (outcome.Status, outcome.ResultText));
        Assert.Equal([$"agentworker:{id}:", $"agentworker:{id}:"], refunds.Keys.Select(k => k[..k.LastIndexOf(':')] + ":"));
        Assert.Single(refunds.Keys.Distinct());
    }

    [Fact]
    public async Task FinishedCall_IsReplayedFromItsStoredOutput_NeverRunAgain()
    {
        var refunds = new Refunds { HangOnCall = 0 };
        await using var world = await ToolWorld.StartAsync(w => refunds.Register(w, ToolSideEffects.SideEffects));
        var id = await world.EnqueueAsync(Prompt);
        Assert.Equal(TaskStatuses.Succeeded, (await world.RunAsync(id, Prompt, ["refund"], attempt: 1, Ct)).Status);
        // The worker died after storing the call's output and before the next turn was stored.
        await world.Database.ScalarAsync<int>("delete from agent.steps where task_id = @id and seq = (select max(seq) from agent.steps where task_id = @id) returning 1", new { id });

        var outcome = await world.RunAsync(id, Prompt, ["refund"], attempt: 2, Ct);

        Assert.Equal((TaskStatuses.Succeeded, "refund: refunded o-1"), (outcome.Status, outcome.ResultText));
        Assert.Single(refunds.Keys);
        Assert.Equal(1, await world.Database.ScalarAsync<int>("select count(*)::int from agent.tool_calls where task_id = @id and finished_at is not null", new { id }));
    }

    [Fact]
    public async Task ReadOnlyTools_AreNotJournaled_AndTheTaskRecordsTheToolsItRanWith()
    {
        await using var world = await ToolWorld.StartAsync(_ => { });
        const string prompt = "How many orders are there?";
        var id = await world.EnqueueAsync(prompt);

        var outcome = await world.RunAsync(id, prompt, [], attempt: 1, Ct);

        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        Assert.Equal(0, await world.Database.ScalarAsync<int>("select count(*)::int from agent.tool_calls where task_id = @id", new { id }));
        Assert.Equal(["describe_table", "list_tables", "query"], outcome.Tools!); // stored with the outcome (OwnToolsEndToEndTests)
    }
}
