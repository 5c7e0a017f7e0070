using System.Text.Json.Nodes;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using Npgsql;

namespace AgentWorker.Tests.Tasks;

/// <summary>The C# client: the SQL API's rules and outcomes as .NET types, and input PostgreSQL cannot store refused by name.</summary>
public sealed class TaskClientTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.
    private NpgsqlDataSource _source = null!; // Set in InitializeAsync.
    private TaskClient _client = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _source = NpgsqlDataSource.Create(_db.ConnectionString);
        _client = new TaskClient(_source, new DefaultModel("default-model"));
    }

    public async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync();
        await _db.DisposeAsync();
    }

    public static TheoryData<string, EnqueueRequest> Unstorable => new()
    {
        { "prompt", new EnqueueRequest { Prompt = "before\0after" } },
        { "prompt", new EnqueueRequest { Prompt = "half a pair: \ud800" } },
        { "instructions", new EnqueueRequest { Prompt = "fine", Instructions = "\udc00 alone" } },
        { "idempotency_key", new EnqueueRequest { Prompt = "fine", IdempotencyKey = "k\0" } },
        { "tool_config", new EnqueueRequest { Prompt = "fine", ToolConfig = new JsonObject { ["note"] = "nul\0inside" } } },
    };

    [Theory]
    [MemberData(nameof(Unstorable))]
    public async Task Enqueue_TextPostgresCannotStore_IsRefusedNamingTheField(string field, EnqueueRequest request)
    {
        var error = await Assert.ThrowsAsync<TaskValidationException>(() => _client.EnqueueAsync(request, Ct));

        Assert.Equal(field, error.Field);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task Enqueue_AnEmojiAndAnyOtherValidText_IsStoredAsGiven()
    {
        var id = await _client.EnqueueAsync(new EnqueueRequest { Prompt = "Ünïcødé 🙂 text" }, Ct);

        Assert.Equal("Ünïcødé 🙂 text", (await _client.GetAsync(id, Ct))!.Prompt);
    }

    [Fact]
    public async Task Enqueue_ServerRefusal_NamesTheField_AndAKeyReusedForOtherContent_IsAConflict()
    {
        var bad = await Assert.ThrowsAsync<TaskValidationException>(() =>
            _client.EnqueueAsync(new EnqueueRequest { Prompt = "hi", MaxSteps = 0 }, Ct));
        var first = await _client.EnqueueAsync(new EnqueueRequest { Prompt = "one", IdempotencyKey = "k" }, Ct);
        var same = await _client.EnqueueAsync(new EnqueueRequest { Prompt = "one", IdempotencyKey = "k" }, Ct);
        var conflict = await Assert.ThrowsAsync<IdempotencyConflictException>(() =>
            _client.EnqueueAsync(new EnqueueRequest { Prompt = "two", IdempotencyKey = "k" }, Ct));

        Assert.Equal("max_steps", bad.Field);
        Assert.Equal(first, same);
        Assert.Contains($"task {first}", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelAndRetry_ReturnTheirOutcomes_AndTheModelShownIsTheDefaultUntilTheTaskRuns()
    {
        var id = await _client.EnqueueAsync(new EnqueueRequest { Prompt = "later", RunAt = TimeProvider.System.GetUtcNow().AddHours(1) }, Ct);

        Assert.Equal("default-model", (await _client.GetAsync(id, Ct))!.Model);
        Assert.Null((await _client.GetAsync(id, Ct))!.RequestedModel);
        Assert.Equal(RetryOutcome.NotFinished, await _client.RetryAsync(id, null, Ct));
        Assert.Equal(CancelOutcome.Cancelled, await _client.CancelAsync(id, Ct));
        Assert.Equal(CancelOutcome.AlreadyFinished, await _client.CancelAsync(id, Ct));
        Assert.Equal(CancelOutcome.NotFound, await _client.CancelAsync(987654321, Ct));
        await Assert.ThrowsAsync<TaskValidationException>(() => _client.RetryAsync(id, 500, Ct));
        Assert.Equal(RetryOutcome.Queued, await _client.RetryAsync(id, 30, Ct));
        Assert.Equal(30, (await _client.GetAsync(id, Ct))!.MaxSteps);
        Assert.Equal(RetryOutcome.NotFound, await _client.RetryAsync(987654321, null, Ct));
    }
}
