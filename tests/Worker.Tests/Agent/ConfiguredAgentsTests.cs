using AgentWorker.Jobs.Agent;
using AgentWorker.Tests.Infrastructure;
using AgentWorker.Worker;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace AgentWorker.Tests.Agent;

/// <summary>
/// Agents in configuration (<c>Agents__&lt;name&gt;__...</c>): read with every mistake named by its key, and synced into
/// <c>agent.agents</c> at start (the configuration owns its agents; one taken out of it is removed).
/// </summary>
public sealed class ConfiguredAgentsTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.
    private NpgsqlDataSource _source = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _source = NpgsqlDataSource.Create(_db.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();

    private Task SyncAsync(IConfiguration configuration) =>
        new ConfiguredAgentSync(_source, ConfiguredAgents.Read(configuration)).StartAsync(Ct);

    [Fact]
    public void Read_EverySetting_InTheToolsOrder()
    {
        var agents = ConfiguredAgents.Read(Configuration(
            ("Agents:support:Instructions", "Be kind."), ("Agents:support:Model", "sim-1"), ("Agents:support:Tools:1", "everything__*"),
            ("Agents:support:Tools:0", "query"), ("Agents:support:MaxSteps", "7"), ("Agents:support:DeadlineAfter", "00:10:00"),
            ("Agents:bare:Model", "")));

        var support = agents.Agents["support"];
        Assert.Equal(("Be kind.", "sim-1", 7, TimeSpan.FromMinutes(10)), (support.Instructions, support.Model, support.MaxSteps, support.DeadlineAfter));
        Assert.Equal(["query", "everything__*"], support.Tools!);
        Assert.Equal(new AgentDefinition(), agents.Agents["bare"]);
    }

    [Theory]
    [InlineData("Agents:support:MaxSteps", "many", "Agents:support:MaxSteps (environment Agents__support__MaxSteps) must be an integer from 1 to 200; got \"many\".")]
    [InlineData("Agents:support:DeadlineAfter", "ten minutes", "Agents:support:DeadlineAfter (environment Agents__support__DeadlineAfter) must be a positive time span")]
    [InlineData("Agents:support:DeadlineAfter", "-00:10:00", "Agents:support:DeadlineAfter (environment Agents__support__DeadlineAfter) must be a positive time span")]
    [InlineData("Agents:support:Instruction", "typo", "Agents:support:Instruction (environment Agents__support__Instruction) is not a setting of an agent; the settings are Instructions, Model, Tools, MaxSteps, DeadlineAfter.")]
    [InlineData("Agents:support:Tools", "query", "Agents:support:Tools (environment Agents__support__Tools) is a list: set Agents__support__Tools__0")]
    [InlineData("Agents:support:Tools:first", "query", "Agents:support:Tools:first (environment Agents__support__Tools__first) must be a tool name")]
    [InlineData("Agents:support", "x", "Agents:support (environment Agents__support) must be a section with the agent's settings")]
    public void Read_AMistake_FailsNamingTheKeyAndItsEnvironmentVariable(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ConfiguredAgents.Read(Configuration((key, value))));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkerStart_WithAnAgentSettingThatDoesNotParse_FailsNamingIt()
    {
        using var host = WorkerHost.CreateBuilder(
        [
            "--ConnectionStrings:App=Host=127.0.0.1;Port=1;Database=none;Username=none", "--Llm:ApiKey=k", "--Llm:Model=m",
            "--Agents:support:MaxSteps=lots",
        ]).Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.StartsWith("Agents:support:MaxSteps (environment Agents__support__MaxSteps) must be an integer", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Agents:support:MaxSteps", "500", "Agents:support:MaxSteps (environment Agents__support__MaxSteps) is not valid: agent.upsert_agent: max_steps must be between 1 and 200, got 500")]
    [InlineData("Agents:support:Tools:0", "crm*", "Agents:support:Tools (environment Agents__support__Tools) is not valid: agent.upsert_agent: tools entry 1 (counting from 1) \"crm*\"")]
    [InlineData("Agents:support:Model", "gpt 5", "Agents:support:Model (environment Agents__support__Model) is not valid: agent.upsert_agent: model \"gpt 5\"")]
    [InlineData("Agents:has.dot:Model", "m1", "Agents:has.dot (environment Agents__has.dot) is not valid: agent.upsert_agent: name \"has.dot\"")]
    public async Task Sync_AValueTheSqlApiRefuses_FailsStartNamingTheKey(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SyncAsync(Configuration((key, value))));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_WritesTheConfiguration_TakesOverAnSqlAgent_AndRemovesOnesTakenOutOfIt()
    {
        await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'support', model => 'from-sql')");
        await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'mine', model => 'from-sql')");
        await SyncAsync(Configuration(("Agents:support:Model", "from-config"), ("Agents:ops:MaxSteps", "3")));
        var task = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'ops')");

        Assert.Equal("mine:from-sql:sql,ops::config,support:from-config:config", await _db.ScalarAsync<string>(
            "select string_agg(concat_ws(':', name, coalesce(model, ''), source), ',' order by name) from agent.agents"));

        await SyncAsync(Configuration(("Agents:support:Model", "from-config")));

        Assert.Equal("mine,support", await _db.ScalarAsync<string>("select string_agg(name, ',' order by name) from agent.agents"));
        Assert.Equal("ops|3", await _db.ScalarAsync<string>("select concat_ws('|', agent, max_steps) from agent.tasks where id = @task", new { task }));
    }
}
