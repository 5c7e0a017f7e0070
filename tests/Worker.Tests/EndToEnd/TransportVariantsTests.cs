using AgentWorker.Jobs.Llm;
using AgentWorker.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>A worker whose WebSocket breaker reopens quickly, so a test can watch it fall back and come back.</summary>
public sealed class FallbackEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> WorkerArguments => ["--Llm:WebSocketRetryAfter=00:00:01"];
}

/// <summary>A worker configured for HTTP/SSE only.</summary>
public sealed class HttpOnlyEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> WorkerArguments => ["--Llm:Transport=http"];
}

/// <summary>A worker with a pool of 4 sockets, allowed 32 runs: the sockets bound the runs.</summary>
public sealed class SmallPoolEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> WorkerArguments => ["--Llm:MaxSockets=4", "--Worker:MaxRuns=32"];
}

internal static class TaskSteps
{
    public sealed record ModelStep(long TaskId, int Seq, string Transport, string? SocketId, bool Chained, string? Recovery);

    public static async Task<List<ModelStep>> ModelStepsAsync(this AgentEnvironment env, params long[] ids)
    {
        await using var connection = env.Database.Open();
        return (await connection.QueryAsync<ModelStep>("""
            select task_id as TaskId, seq, transport, socket_id as SocketId, chained, recovery from agent.steps
             where task_id = any(@ids) and kind = 'model' order by task_id, seq
            """, new { ids })).ToList();
    }

    public static async Task<long> RunAsync(this AgentEnvironment env, string prompt)
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)", new { prompt });
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        return id;
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class HttpFallbackTests(FallbackEnvironment env) : IClassFixture<FallbackEnvironment>
{
    [Fact]
    public async Task WebSocketConnectsRefused_TurnsGoOverHttp_ThenWebSocketIsProbedAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        // Every socket dies, and the next 20 upgrades are refused with 503.
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "restart" }, ct);
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "handshake_reject", count = 20 }, ct);

        var during = await env.RunAsync("How many customers are there?");
        await SimulatorFaults.ClearAsync(env.Simulator.BaseUrl, ct);
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct); // the breaker's cool-down (Llm:WebSocketRetryAfter = 1 s)
        var after = await env.RunAsync("How many orders are there?");

        var duringTurns = await env.ModelStepsAsync(during);
        Assert.All(duringTurns, t => Assert.Equal("http", t.Transport));
        Assert.All(duringTurns, t => Assert.False(t.Chained));
        Assert.All(duringTurns, t => Assert.Contains("HTTP", t.Recovery, StringComparison.Ordinal));
        var afterTurns = await env.ModelStepsAsync(after);
        Assert.All(afterTurns, t => Assert.Equal("ws", t.Transport));
        Assert.All(afterTurns.Skip(1), t => Assert.True(t.Chained));
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class HttpTransportTests(HttpOnlyEnvironment env) : IClassFixture<HttpOnlyEnvironment>
{
    [Fact]
    public async Task TransportHttp_EveryTurnIsAnSsePostWithFullContext()
    {
        var id = await env.RunAsync("How many products are there?");

        var turns = await env.ModelStepsAsync(id);
        Assert.Equal(4, turns.Count);
        Assert.All(turns, t => Assert.Equal("http", t.Transport));
        Assert.All(turns, t => Assert.False(t.Chained));
        Assert.All(turns, t => Assert.Null(t.SocketId));
        Assert.All(turns, t => Assert.Null(t.Recovery));
        Assert.Equal(0, env.Simulator.Statistics.Connections);
        Assert.True(env.Simulator.Statistics.Requests.Count(r => r.Transport == "http") >= 4);
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class PooledRunsTests(SmallPoolEnvironment env) : IClassFixture<SmallPoolEnvironment>
{
    [Fact]
    public async Task FiftyTasksThroughFourSockets_AtMostFourHandshakes_EveryLaterTurnChained()
    {
        var ids = (await env.Database.ScalarAsync<long[]>(
            "select array_agg(agent.enqueue(prompt => 'How many orders? #' || i)) from generate_series(1, 50) i")).ToArray();
        foreach (var id in ids)
        {
            Assert.Equal("succeeded", await env.WaitForTaskAsync(id, TimeSpan.FromSeconds(120)));
        }

        var turns = await env.ModelStepsAsync(ids);
        Assert.Equal(50 * 4, turns.Count);
        Assert.All(turns.Where(t => t.Seq > 1), t => Assert.True(t.Chained, $"task {t.TaskId} turn {t.Seq} was not chained"));
        Assert.All(turns.GroupBy(t => t.TaskId), task => Assert.Single(task.Select(t => t.SocketId).Distinct()));
        Assert.True(env.Simulator.Statistics.Connections <= 4, $"{env.Simulator.Statistics.Connections} handshakes");
        var pool = env.WorkerServices.GetRequiredService<SocketPool>().Statistics;
        Assert.True(pool.Handshakes <= 4, $"{pool.Handshakes} handshakes");
        Assert.True(pool.Total <= 4);
        Assert.Equal(0, pool.Leased);
        // The executor claimed no more than it had sockets for: at most 4 runs at once, none waited for a socket.
        Assert.Equal(4, env.WorkerServices.GetRequiredService<AgentWorker.Jobs.Runs.RunExecutor>().Slots);
        Assert.InRange(await env.Database.ScalarAsync<long>("""
            select max((select count(*) from agent.tasks o
                         where o.id = any(@ids) and o.started_at <= t.started_at and o.finished_at > t.started_at))
              from agent.tasks t where t.id = any(@ids)
            """, new { ids }), 1, 4);
        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from agent.tasks where id = any(@ids) and retries > 0", new { ids }));
    }
}
