using AgentWorker.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace AgentWorker.Tests.Tasks;

/// <summary><c>agent.enqueue</c>, the one code path behind every enqueue.</summary>
public sealed class EnqueueSqlTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync() => _db = await server.CreateDatabaseAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Theory]
    [InlineData("select agent.enqueue(prompt => '')", "prompt must not be empty")]
    [InlineData("select agent.enqueue(prompt => '   ')", "prompt must not be empty")]
    [InlineData("select agent.enqueue(prompt => null)", "prompt must not be empty")]
    [InlineData("select agent.enqueue(prompt => 'hi', max_steps => 0)", "max_steps must be between 1 and 200")]
    [InlineData("select agent.enqueue(prompt => 'hi', max_steps => 201)", "max_steps must be between 1 and 200")]
    [InlineData("select agent.enqueue(prompt => 'hi', priority => 11)", "priority must be between -10 and 10")]
    [InlineData("select agent.enqueue(prompt => 'hi', model => 'gpt 5; drop')", "is not a valid model name")]
    [InlineData("select agent.enqueue(prompt => 'hi', idempotency_key => '')", "idempotency_key must be 1 to 200 characters")]
    [InlineData("select agent.enqueue(prompt => 'hi', deadline => now() - interval '1 minute')", "is not after the start time")]
    [InlineData("select agent.enqueue(prompt => 'hi', tool_config => '[1,2]')", "tool_config must be a JSON object")]
    [InlineData("select agent.enqueue(prompt => 'hi', run_at => 'infinity')", "run_at must be a finite time")]
    [InlineData("select agent.enqueue(prompt => 'hi', run_at => '-infinity')", "run_at must be a finite time")]
    [InlineData("select agent.enqueue(prompt => 'hi', deadline => 'infinity')", "deadline must be a finite time")]
    [InlineData("select agent.enqueue(prompt => 'hi', deadline => '-infinity')", "deadline must be a finite time")]
    public async Task Enqueue_BadInput_RaisesClearErrorAndStoresNothing(string sql, string expected)
    {
        await using var connection = _db.Open();

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<long>(sql));

        Assert.Equal("22023", error.SqlState);
        Assert.Contains(expected, error.MessageText, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task Enqueue_ValidInput_StoresQueuedTaskWithEveryOption()
    {
        var id = await _db.ScalarAsync<long>("""
            select agent.enqueue(prompt => 'How many?', instructions => 'Be brief', model => 'sim-1', priority => 3,
                max_steps => 7, idempotency_key => 'k-options', run_at => now() + interval '1 hour',
                deadline => now() + interval '2 hours', tool_config => '{"max_rows": 5}')
            """);

        await using var connection = _db.Open();
        var row = await connection.QuerySingleAsync("select * from agent.tasks where id = @id", new { id });
        Assert.Equal("queued", (string)row.status);
        Assert.Equal("Be brief", (string)row.instructions);
        Assert.Equal("sim-1", (string)row.model);
        Assert.Equal(3, (short)row.priority);
        Assert.Equal(7, (int)row.max_steps);
        Assert.True((DateTime)row.run_at > DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc).AddYears(2000));
        Assert.Null((string?)row.hangfire_job_id);
    }

    [Fact]
    public async Task Enqueue_RepeatedIdempotencyKey_ReturnsFirstId()
    {
        var first = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'one', idempotency_key => 'same')");
        var second = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'two', idempotency_key => 'same')");

        Assert.Equal(first, second);
        Assert.Equal(1L, await _db.ScalarAsync<long>("select count(*) from agent.tasks where idempotency_key = 'same'"));
        Assert.Equal("one", await _db.ScalarAsync<string>("select prompt from agent.tasks where id = @first", new { first }));
    }

    [Fact]
    public async Task Enqueue_Committed_NotifiesListeners()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var listener = _db.Open();
        var received = new TaskCompletionSource<string>();
        listener.Notification += (_, e) => received.TrySetResult(e.Channel);
        await using (var listen = new NpgsqlCommand("listen agent_tasks", listener))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }

        await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'wake up')");
        await listener.WaitAsync(TimeSpan.FromSeconds(10), ct);

        Assert.True(received.Task.IsCompleted, "no NOTIFY arrived within 10 s");
        Assert.Equal("agent_tasks", await received.Task);
    }

    [Fact]
    public async Task Cancel_QueuedTask_EndsCancelled()
    {
        var id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'never mind')");

        Assert.True(await _db.ScalarAsync<bool>("select agent.cancel(@id)", new { id }));
        Assert.False(await _db.ScalarAsync<bool>("select agent.cancel(@id)", new { id }));
        Assert.Equal("cancelled", await _db.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id }));
    }
}
