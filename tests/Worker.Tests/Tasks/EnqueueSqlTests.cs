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
    public async Task Enqueue_RepeatedIdempotencyKeyWithTheSameContent_ReturnsFirstId()
    {
        const string Sql = """
            select agent.enqueue(prompt => 'one', instructions => 'be brief', model => 'm1', priority => 2, max_steps => 7,
                idempotency_key => 'same', deadline => '2099-01-01T00:00:00Z', tool_config => '{"schemas": ["shop"]}', run_at => @runAt)
            """;
        var first = await _db.ScalarAsync<long>(Sql, new { runAt = TimeProvider.System.GetUtcNow() });
        // run_at is when, not what: a repeat at another time is the same request. So is the same deadline written in
        // another time zone.
        await using var tokyo = _db.Open();
        await tokyo.ExecuteAsync("set timezone = 'Asia/Tokyo'");
        var second = await tokyo.ExecuteScalarAsync<long>(Sql, new { runAt = TimeProvider.System.GetUtcNow().AddHours(1) });

        Assert.Equal(first, second);
        Assert.Equal(1L, await _db.ScalarAsync<long>("select count(*) from agent.tasks where idempotency_key = 'same'"));
    }

    [Theory]
    [InlineData("prompt => 'two'", "(prompt)")]
    [InlineData("prompt => 'one', instructions => 'be long'", "(instructions)")]
    [InlineData("prompt => 'one', model => 'other-model', max_steps => 9", "(model, max_steps)")]
    [InlineData("prompt => 'one', priority => 5", "(priority)")]
    [InlineData("prompt => 'one', deadline => '2099-01-02T00:00:00Z'", "(deadline)")]
    [InlineData("prompt => 'one', tool_config => '{\"schemas\": [\"hr\"]}'", "(tool_config)")]
    public async Task Enqueue_RepeatedIdempotencyKeyWithOtherContent_IsRefusedNamingTheKeyTheTaskAndWhatDiffers(string repeat, string differs)
    {
        var first = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'one', idempotency_key => 'k')");
        await using var connection = _db.Open();

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteScalarAsync<long>($"select agent.enqueue({repeat}, idempotency_key => 'k')"));

        Assert.Equal("23505", error.SqlState);
        Assert.Equal($"agent.enqueue: idempotency_key \"k\" was already used for task {first} with different content {differs}", error.MessageText);
        Assert.Equal(1L, await _db.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task Enqueue_RepeatedKeyOfATaskStoredBeforeDigests_ComparesTheStoredContent()
    {
        var first = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'one', idempotency_key => 'old')");
        await _db.ScalarAsync<object>("update agent.tasks set request_digest = null where id = @first", new { first });

        Assert.Equal(first, await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'one', idempotency_key => 'old')"));
        await Assert.ThrowsAsync<PostgresException>(() => _db.ScalarAsync<long>("select agent.enqueue(prompt => 'two', idempotency_key => 'old')"));
    }

    [Fact]
    public async Task EnqueueMany_PerItemKeys_FollowTheSameRule()
    {
        var ids = await _db.ScalarAsync<long[]>("select agent.enqueue_many(prompts => array['a', 'b'], idempotency_key => 'set')");

        Assert.Equal(ids, await _db.ScalarAsync<long[]>("select agent.enqueue_many(prompts => array['a', 'b'], idempotency_key => 'set')"));
        Assert.Equal(ids[0], await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'a', idempotency_key => 'set:1')"));
        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            _db.ScalarAsync<long[]>("select agent.enqueue_many(prompts => array['a', 'changed'], idempotency_key => 'set')"));
        Assert.Contains("\"set:2\"", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(2L, await _db.ScalarAsync<long>("select count(*) from agent.tasks"));
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
    public async Task Cancel_SaysWhatHappened_ForQueuedRunningFinishedAndUnknownTasks()
    {
        var queued = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'never mind')");
        var running = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'busy')");
        await _db.ScalarAsync<object>("update agent.tasks set status = 'running', attempt = 1 where id = @running", new { running });

        Assert.Equal("cancelled", await _db.ScalarAsync<string>("select agent.cancel(@queued)", new { queued }));
        Assert.Equal("already_finished", await _db.ScalarAsync<string>("select agent.cancel(@queued)", new { queued }));
        Assert.Equal("stop_requested", await _db.ScalarAsync<string>("select agent.cancel(@running, 'test')", new { running }));
        Assert.Equal("stop_requested", await _db.ScalarAsync<string>("select agent.cancel(@running)", new { running }));
        Assert.Equal("not_found", await _db.ScalarAsync<string>("select agent.cancel(987654321)"));
        Assert.Equal("cancelled", await _db.ScalarAsync<string>("select status from agent.tasks where id = @queued", new { queued }));
        Assert.Equal("test", await _db.ScalarAsync<string>("select cancel_reason from agent.tasks where id = @running", new { running })); // the first reason stays
    }

    [Fact]
    public async Task Retry_FailedTask_IsQueuedAgainWithItsStepsAndUsageKept_AndMaxStepsReplacedWhenGiven()
    {
        var id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'again', max_steps => 2)");
        await _db.ScalarAsync<object>("""
            update agent.tasks set status = 'failed', attempt = 1, retries = 3, finished_at = now(), error_code = 'max_steps',
                   error_message = 'out of steps', input_tokens = 100, run_at = now() - interval '1 hour' where id = @id;
            insert into agent.steps (task_id, attempt, seq, kind, started_at, finished_at, duration_ms) values (@id, 1, 1, 'model', now(), now(), 1);
            """, new { id });

        Assert.Equal("queued", await _db.ScalarAsync<string>("select agent.retry(@id, max_steps => 10)", new { id }));

        var row = await _db.ScalarAsync<string>("""
            select concat_ws('|', status, max_steps, retries, attempt, input_tokens, error_code is null, finished_at is null,
                              run_at > now() - interval '1 minute', (select count(*) from agent.steps where task_id = @id))
              from agent.tasks where id = @id
            """, new { id });
        Assert.Equal("queued|10|0|1|100|t|t|t|1", row);
    }

    [Fact]
    public async Task Retry_RefusesWhatItCannotRun_AndSaysWhy()
    {
        var queued = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'waiting')");
        var succeeded = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'done')");
        var late = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'late', deadline => now() + interval '1 hour')");
        await _db.ScalarAsync<object>("""
            update agent.tasks set status = 'succeeded', finished_at = now() where id = @succeeded;
            update agent.tasks set status = 'failed', finished_at = now(), error_code = 'deadline', deadline = now() - interval '1 second'
             where id = @late;
            """, new { succeeded, late });

        Assert.Equal("not_finished", await _db.ScalarAsync<string>("select agent.retry(@queued)", new { queued }));
        Assert.Equal("succeeded", await _db.ScalarAsync<string>("select agent.retry(@succeeded)", new { succeeded }));
        Assert.Equal("deadline_passed", await _db.ScalarAsync<string>("select agent.retry(@late)", new { late }));
        Assert.Equal("not_found", await _db.ScalarAsync<string>("select agent.retry(987654321)"));
        var error = await Assert.ThrowsAsync<PostgresException>(() => _db.ScalarAsync<string>("select agent.retry(@late, max_steps => 0)", new { late }));
        Assert.Equal("22023", error.SqlState);
        Assert.Equal("failed", await _db.ScalarAsync<string>("select status from agent.tasks where id = @late", new { late }));
    }
}
