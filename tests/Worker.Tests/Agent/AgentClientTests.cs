using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Batches;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using Npgsql;

namespace AgentWorker.Tests.Agent;

/// <summary>
/// <see cref="IAgentClient"/> and the agent of the other clients: the SQL API's agents as .NET types, refusals naming the
/// field, a configuration-owned agent as an outcome, and a task's agent and tools as the API reads them.
/// </summary>
public sealed class AgentClientTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.
    private NpgsqlDataSource _source = null!; // Set in InitializeAsync.
    private AgentClient _agents = null!; // Set in InitializeAsync.
    private TaskClient _tasks = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly AgentDefinition s_support = new()
    {
        Instructions = "Answer from the order history.",
        Model = "sim-1",
        Tools = ["query", "everything__*"],
        MaxSteps = 6,
        DeadlineAfter = TimeSpan.FromMinutes(10),
    };

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _source = NpgsqlDataSource.Create(_db.ConnectionString);
        _agents = new AgentClient(_source);
        _tasks = new TaskClient(_source, new DefaultModel("default-model"));
    }

    public async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task UpsertGetListDelete_RoundTripTheDefinition_AndSayWhatHappened()
    {
        Assert.Equal(AgentUpsertOutcome.Created, await _agents.UpsertAsync("support", s_support, Ct));
        Assert.Equal(AgentUpsertOutcome.Unchanged, await _agents.UpsertAsync("support", s_support, Ct));
        Assert.Equal(AgentUpsertOutcome.Updated, await _agents.UpsertAsync("support", s_support with { MaxSteps = 7 }, Ct));

        var stored = (await _agents.GetAsync("support", Ct))!;
        Assert.Equal(("Answer from the order history.", "sim-1", 7, TimeSpan.FromMinutes(10), "sql"),
            (stored.Instructions, stored.Model, stored.MaxSteps, stored.DeadlineAfter, stored.Source));
        Assert.Equal(["query", "everything__*"], stored.Tools!);
        Assert.Equal(["support"], (await _agents.ListAsync(Ct)).Select(a => a.Name));
        Assert.Null(await _agents.GetAsync("nope", Ct));
        Assert.Equal(AgentDeleteOutcome.Deleted, await _agents.DeleteAsync("support", Ct));
        Assert.Equal(AgentDeleteOutcome.NotFound, await _agents.DeleteAsync("support", Ct));
    }

    [Theory]
    [InlineData("bad name", null, "name")]
    [InlineData("ok", 0, "max_steps")]
    [InlineData("ok\0", null, "name")]
    public async Task Upsert_BadInput_IsATaskValidationExceptionNamingTheField(string name, int? maxSteps, string field)
    {
        var error = await Assert.ThrowsAsync<TaskValidationException>(() => _agents.UpsertAsync(name, new AgentDefinition { MaxSteps = maxSteps }, Ct));

        Assert.Equal(field, error.Field);
        Assert.Empty(await _agents.ListAsync(Ct));
    }

    [Fact]
    public async Task Upsert_ABadToolPattern_NamesTools()
    {
        var error = await Assert.ThrowsAsync<TaskValidationException>(() =>
            _agents.UpsertAsync("ok", new AgentDefinition { Tools = ["crm__*", "crm*"] }, Ct));

        Assert.Equal("tools", error.Field);
        Assert.Contains("\"crm*\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigOwnedAgent_UpsertAndDelete_AreRefusedAsOutcomes_AndChangeNothing()
    {
        await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'ops', model => 'm1', source => 'config')");

        Assert.Equal(AgentUpsertOutcome.DefinedInConfiguration, await _agents.UpsertAsync("ops", s_support, Ct));
        Assert.Equal(AgentDeleteOutcome.DefinedInConfiguration, await _agents.DeleteAsync("ops", Ct));
        Assert.Equal(("m1", "config"), ((await _agents.GetAsync("ops", Ct))!.Model, (await _agents.GetAsync("ops", Ct))!.Source));
    }

    [Fact]
    public async Task TaskClient_EnqueueWithAgentAndTools_ReadsBackTheAgentAndThePatterns_ThenTheToolsItRanWith()
    {
        await _agents.UpsertAsync("support", s_support, Ct);

        var byAgent = await _tasks.EnqueueAsync(new EnqueueRequest { Prompt = "Where is order 7?", Agent = "support" }, Ct);
        var own = await _tasks.EnqueueAsync(new EnqueueRequest { Prompt = "p", Agent = "support", Tools = ["list_tables"], MaxSteps = 3 }, Ct);
        // the worker writes the concrete tool names when a run starts
        await _db.ScalarAsync<object>("update agent.tasks set tools = array['query', 'everything__echo'] where id = @byAgent", new { byAgent });

        var task = (await _tasks.GetAsync(byAgent, Ct))!;
        Assert.Equal(("support", 6, "sim-1"), (task.Agent, task.MaxSteps, task.RequestedModel));
        Assert.Equal(["query", "everything__echo"], task.Tools!);
        Assert.Equal(["query", "everything__*"], task.ToolPatterns!);
        var mine = (await _tasks.GetAsync(own, Ct))!;
        Assert.Equal(3, mine.MaxSteps);
        Assert.Equal(["list_tables"], mine.Tools!);
        Assert.Equal("support", (await _tasks.ListAsync(null, null, 10, null, Ct)).Single(t => t.Id == own).Agent);
    }

    [Fact]
    public async Task TaskClient_AnUnknownAgent_IsATaskValidationExceptionNamingAgent_AndNothingIsStored()
    {
        var error = await Assert.ThrowsAsync<TaskValidationException>(() =>
            _tasks.EnqueueAsync(new EnqueueRequest { Prompt = "p", Agent = "nope" }, Ct));

        Assert.Equal("agent", error.Field);
        Assert.Equal("agent.enqueue: unknown agent \"nope\"", error.Message);
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task BatchClient_BatchesAndSchedulesWithAnAgent_PassItOn_AndAnUnknownOneNamesAgent()
    {
        await _agents.UpsertAsync("support", s_support, Ct);
        var batches = new BatchClient(_source, TimeProvider.System);

        var id = await batches.CreateAsync(new BatchRequest { Name = "nightly", Prompts = ["a", "b"], Agent = "support" }, Ct);
        await batches.UpsertScheduleAsync("daily", new ScheduleRequest { Cron = "@daily", Prompts = ["a"], Agent = "support" }, Ct);
        var fired = (await batches.TriggerScheduleAsync("daily", Ct))!.Value;
        var error = await Assert.ThrowsAsync<TaskValidationException>(() =>
            batches.CreateAsync(new BatchRequest { Name = "n", Prompts = ["a"], Agent = "nope" }, Ct));

        Assert.Equal("support", (await batches.GetAsync(id, Ct))!.Agent);
        Assert.Equal(("support", (int?)null), ((await batches.GetScheduleAsync("daily", Ct))!.Agent, (await batches.GetScheduleAsync("daily", Ct))!.MaxSteps));
        Assert.All(await _tasks.ListAsync(null, fired, 10, null, Ct), t => Assert.Equal("support", t.Agent));
        Assert.Equal(6, await _db.ScalarAsync<int>("select min(max_steps) from agent.tasks where batch_id = @fired", new { fired }));
        Assert.Equal("agent", error.Field);
    }
}
