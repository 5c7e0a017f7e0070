using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>A worker that accepts server messages of at most 1 MiB (<c>Llm:MaxMessageBytes</c>).</summary>
public sealed class SmallMessageCapEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> WorkerArguments => ["--Llm:MaxMessageBytes=1048576"];
}

/// <summary>The same over HTTP/SSE only.</summary>
public sealed class SmallMessageCapHttpEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> WorkerArguments => ["--Llm:MaxMessageBytes=1048576", "--Llm:Transport=http"];
}

/// <summary>
/// A server message over <c>Llm:MaxMessageBytes</c> is permanent for its turn: the task fails at once naming the setting,
/// the turn is neither resent on a fresh socket nor retried, and the worker reads no more of it than the cap.
/// </summary>
internal static class OversizedMessage
{
    public const int MessageBytes = 256 << 20;

    public static async Task AssertTaskFailsAtOnceAsync(AgentEnvironment env)
    {
        var ct = TestContext.Current.CancellationToken;
        await env.WaitForIdleAsync();
        // Three responses would meet it: a resend or a retry would take a second one.
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "oversized", bytes = MessageBytes, after_events = 2, count = 3 }, ct);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        var status = await env.WaitForTaskAsync(id, TimeSpan.FromSeconds(30));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var pending = await SimulatorFaults.PendingAsync(env.Simulator.BaseUrl, ct);
        await SimulatorFaults.ClearAsync(env.Simulator.BaseUrl, ct);

        Assert.Equal("failed", status);
        var task = await env.Database.ScalarAsync<string>(
            "select concat_ws('|', error_code, retries, error_message) from agent.tasks where id = @id", new { id });
        Assert.StartsWith("model_error|0|", task, StringComparison.Ordinal);
        Assert.Contains("Llm:MaxMessageBytes", task, StringComparison.Ordinal);
        Assert.Equal(2, (int)Assert.Single(pending)!["count"]!);
        // The whole process (simulator included) allocated far less than the message: the worker stopped at the cap.
        Assert.True(allocated < 64 << 20, $"{allocated >> 20} MiB allocated while a {MessageBytes >> 20} MiB message came");
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class OversizedMessageTests(SmallMessageCapEnvironment env) : IClassFixture<SmallMessageCapEnvironment>
{
    [Fact]
    public Task MessageOverTheCap_OverWebSocket_FailsTheTaskAtOnce_WithoutAResendOrARetry() =>
        OversizedMessage.AssertTaskFailsAtOnceAsync(env);

    [Fact]
    public async Task MessageOverTheCap_TheNextTaskRunsNormally()
    {
        await OversizedMessage.AssertTaskFailsAtOnceAsync(env);

        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class OversizedSseEventTests(SmallMessageCapHttpEnvironment env) : IClassFixture<SmallMessageCapHttpEnvironment>
{
    [Fact]
    public Task EventOverTheCap_OverHttp_FailsTheTaskAtOnce_WithoutARetry() =>
        OversizedMessage.AssertTaskFailsAtOnceAsync(env);
}
