using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>The simulator plays a reasoning model with <c>store:false</c>, refusing reasoning replayed without its content.</summary>
public sealed class ReasoningEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> SimulatorArguments => ["--Simulator:Reasoning=true"];

    protected override IEnumerable<string> WorkerArguments => ["--Llm:ReasoningEffort=low", "--Llm:MaxOutputTokens=2000"];
}

/// <summary>The same reasoning model, reached over HTTP only: every turn is a full resend.</summary>
public sealed class ReasoningHttpEnvironment : AgentEnvironment
{
    protected override IEnumerable<string> SimulatorArguments => ["--Simulator:Reasoning=true"];

    protected override IEnumerable<string> WorkerArguments => ["--Llm:Transport=http"];
}

internal static class ReasoningSteps
{
    public sealed record Step(int Seq, bool Chained, string? Recovery, int ReasoningTokens, string Items);

    public static async Task<List<Step>> ModelStepsAsync(AgentEnvironment env, long id)
    {
        await using var connection = env.Database.Open();
        return (await connection.QueryAsync<Step>("""
            select seq, chained, recovery, reasoning_tokens as ReasoningTokens, items::text as Items
              from agent.steps where task_id = @id and kind = 'model' order by seq
            """, new { id })).ToList();
    }

    /// <summary>Each turn's output starts with a reasoning item that came with its encrypted content; usage counts it.</summary>
    public static async Task AssertReasoningKeptAsync(AgentEnvironment env, long id)
    {
        var steps = await ModelStepsAsync(env, id);
        Assert.Equal(4, steps.Count);
        Assert.All(steps, s => Assert.Contains("\"type\": \"reasoning\"", s.Items.Replace("\"type\":\"", "\"type\": \"", StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.All(steps, s => Assert.Contains("\"encrypted_content\"", s.Items, StringComparison.Ordinal));
        Assert.All(steps, s => Assert.Equal(AgentWorker.Simulator.Protocol.ResponseEngine.ReasoningTokens, s.ReasoningTokens));
        Assert.Equal(4L * AgentWorker.Simulator.Protocol.ResponseEngine.ReasoningTokens,
            await env.Database.ScalarAsync<long>("select reasoning_tokens from agent.tasks where id = @id", new { id }));
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class ReasoningModelTests(ReasoningEnvironment env) : IClassFixture<ReasoningEnvironment>
{
    [Fact]
    public async Task WarmSocket_TasksSucceed_ChainedTurnsSendOnlyNewItems_AndReasoningIsKept()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        await ReasoningSteps.AssertReasoningKeptAsync(env, id);
        Assert.All((await ReasoningSteps.ModelStepsAsync(env, id)).Skip(1), s => Assert.True(s.Chained));
    }

    [Fact]
    public async Task DroppedSocket_FullResendReplaysReasoningWithItsContent_AndTheTaskSucceeds()
    {
        await env.WaitForIdleAsync();
        await SimulatorFaults.InjectAsync(env.Simulator.BaseUrl, new { kind = "drop", skip = 1, after_events = 3 }, TestContext.Current.CancellationToken);
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders are there?')");

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        var steps = await ReasoningSteps.ModelStepsAsync(env, id);
        Assert.Contains("full resend on a fresh socket", steps[1].Recovery, StringComparison.Ordinal);
        Assert.False(steps[1].Chained);
        await ReasoningSteps.AssertReasoningKeptAsync(env, id);
    }
}

[Collection(AgentEnvironmentGroup.Name)]
public sealed class ReasoningOverHttpTests(ReasoningHttpEnvironment env) : IClassFixture<ReasoningHttpEnvironment>
{
    [Fact]
    public async Task HttpOnly_EveryTurnAFullResend_ReplaysReasoning_AndTheTaskSucceeds()
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many products are there?')");

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));

        await ReasoningSteps.AssertReasoningKeptAsync(env, id);
        Assert.All(await ReasoningSteps.ModelStepsAsync(env, id), s => Assert.False(s.Chained));
    }
}
