using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// Every fault of the simulator, injected through its control endpoint into a real run: the task still succeeds,
/// and its steps show the recovery (a new socket, an unchained full resend, a retry after a wait).
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class FaultRecoveryTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private sealed record ModelStep(int Seq, string SocketId, bool Chained, int Attempts, string? Recovery, string Transport);

    private async Task InjectAsync(object fault)
    {
        await env.WaitForIdleAsync();
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, fault, TestContext.Current.CancellationToken);
    }

    /// <summary>Runs a 4-turn task whose second turn (the first chained one) meets the fault.</summary>
    private async Task<List<ModelStep>> RunWithFaultOnSecondTurnAsync(object? fault)
    {
        if (fault is not null)
        {
            await InjectAsync(fault);
        }
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        var result = await env.Database.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id });
        Assert.Contains("There are 2000 rows in shop.customers", result, StringComparison.Ordinal);
        await using var connection = env.Database.Open();
        return (await connection.QueryAsync<ModelStep>("""
            select seq, socket_id as SocketId, chained, attempts, recovery, transport from agent.steps
             where task_id = @id and kind = 'model' order by seq
            """, new { id })).ToList();
    }

    [Theory]
    [InlineData("drop")]
    [InlineData("close")]
    [InlineData("malformed")]
    [InlineData("binary")]
    [InlineData("forget")]
    [InlineData("connection_limit")]
    public async Task LostSocketOrChain_TurnIsResentInFullOnAFreshSocket(string kind)
    {
        var turns = await RunWithFaultOnSecondTurnAsync(new { kind, skip = 1, after_events = 3 });

        Assert.Equal(4, turns.Count);
        var recovered = turns[1];
        Assert.Equal(2, recovered.Attempts);
        Assert.False(recovered.Chained);
        Assert.NotEqual(turns[0].SocketId, recovered.SocketId);
        Assert.Contains("full resend on a fresh socket", recovered.Recovery, StringComparison.Ordinal);
        // The run goes on chained on the new socket.
        Assert.All(turns.Skip(2), t => Assert.True(t.Chained));
        Assert.All(turns.Skip(2), t => Assert.Equal(recovered.SocketId, t.SocketId));
    }

    [Fact]
    public async Task FrameWithBytesThatAreNotUtf8_TaskStillSucceeds()
    {
        var turns = await RunWithFaultOnSecondTurnAsync(new { kind = "invalid_utf8", skip = 1, after_events = 3 });

        Assert.Equal(4, turns.Count);
        Assert.Equal("ws", turns[1].Transport);
    }

    [Theory]
    [InlineData("rate_limit")]
    [InlineData("server_error")]
    [InlineData("failed")]
    public async Task RateLimitOrTransientFailure_TurnIsRetriedAfterAWaitOnTheSameSocket(string kind)
    {
        var turns = await RunWithFaultOnSecondTurnAsync(new { kind, skip = 1, after_events = 2, retry_after_ms = 50 });

        var retried = turns[1];
        Assert.Equal(2, retried.Attempts);
        Assert.Contains("retried after a wait", retried.Recovery, StringComparison.Ordinal);
        Assert.Equal(turns[0].SocketId, retried.SocketId);
        // The server evicted the failed continuation's parent: the retry is sent in full.
        Assert.False(retried.Chained);
        Assert.All(turns, t => Assert.Equal("ws", t.Transport));
    }

    [Fact]
    public async Task ServerRestart_PooledSocketsDie_NextTaskRecoversOnAFreshSocket()
    {
        var warm = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(warm));
        var before = env.Simulator.Statistics.Connections;

        await InjectAsync(new { kind = "restart" });
        var turns = await RunWithFaultOnSecondTurnAsync(fault: null);

        Assert.True(env.Simulator.Statistics.Connections > before, "a new connection was opened after the restart");
        // The pooled socket died with the server: the first turn found out and was resent on a fresh socket
        // (unless a keep-alive ping noticed first and the pool never handed the dead socket out).
        Assert.True(turns[0].Recovery is null || turns[0].Recovery!.Contains("fresh socket", StringComparison.Ordinal), turns[0].Recovery);
        Assert.All(turns.Skip(1), t => Assert.True(t.Chained));
    }

    [Fact]
    public async Task HandshakeDelayed_TaskStillSucceeds()
    {
        await InjectAsync(new { kind = "restart" });
        var turns = await RunWithFaultOnSecondTurnAsync(new { kind = "handshake_delay", delay_ms = 300 });

        Assert.All(turns, t => Assert.Equal("ws", t.Transport));
    }
}
