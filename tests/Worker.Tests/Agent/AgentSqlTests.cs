using AgentWorker.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace AgentWorker.Tests.Agent;

/// <summary>
/// Named agents in SQL: <c>agent.upsert_agent</c>, <c>agent.delete_agent</c>, and what <c>agent.enqueue</c> (and
/// enqueue_many, batches, schedules) make of <c>agent =></c>: the task's own values win, the agent fills in the rest, and
/// the task keeps the result.
/// </summary>
public sealed class AgentSqlTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync() => _db = await server.CreateDatabaseAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private Task<string> UpsertSupportAsync() => _db.ScalarAsync<string>("""
        select agent.upsert_agent(name => 'support', instructions => 'Answer from the order history.', model => 'sim-1',
            tools => array['query', 'everything__*'], max_steps => 5, deadline_after => interval '10 minutes')
        """);

    private async Task<string> TaskRowAsync(long id) => await _db.ScalarAsync<string>("""
        select concat_ws('|', coalesce(agent, '-'), coalesce(instructions, '-'), coalesce(model, '-'), max_steps,
                         coalesce(array_to_string(tool_patterns, ','), '-'),
                         coalesce(extract(epoch from deadline - run_at)::int::text, '-'))
          from agent.tasks where id = @id
        """, new { id });

    [Fact]
    public async Task UpsertAgent_SaysCreatedUpdatedOrUnchanged_AndStoresTheDefinition()
    {
        Assert.Equal("created", await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'support', model => 'm1')"));
        Assert.Equal("unchanged", await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'support', model => 'm1')"));
        Assert.Equal("updated", await _db.ScalarAsync<string>(
            "select agent.upsert_agent(name => 'support', model => 'm2', tools => array['crm__*'], max_steps => 3)"));
        // empty tools are the default (the database tools), stored as null
        Assert.Equal("created", await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'plain', tools => array[]::text[])"));

        Assert.Equal("m2|crm__*|3|sql", await _db.ScalarAsync<string>(
            "select concat_ws('|', model, array_to_string(tools, ','), max_steps, source) from agent.agents where name = 'support'"));
        Assert.True(await _db.ScalarAsync<bool>("select tools is null from agent.agents where name = 'plain'"));
    }

    [Theory]
    [InlineData("name => 'has space'", "name \"has space\" must be 1 to 64 letters, digits, _ and -")]
    [InlineData("name => null", "name \"null\" must be 1 to 64")]
    [InlineData("name => 'a', model => 'gpt 5'", "model \"gpt 5\" is not a valid model name")]
    [InlineData("name => 'a', max_steps => 0", "max_steps must be between 1 and 200, got 0")]
    [InlineData("name => 'a', max_steps => 201", "max_steps must be between 1 and 200, got 201")]
    [InlineData("name => 'a', deadline_after => interval '-1 minute'", "deadline_after must be positive")]
    [InlineData("name => 'a', tools => array['query', 'bad name']", "tools entry 2 (counting from 1) \"bad name\" is neither a tool name")]
    [InlineData("name => 'a', tools => array['every*thing__*']", "tools entry 1 (counting from 1) \"every*thing__*\"")]
    [InlineData("name => 'a', tools => array['everything*']", "\"everything*\" is neither a tool name")]
    [InlineData("name => 'a', tools => array['__*']", "\"__*\" is neither a tool name")]
    [InlineData("name => 'a', tools => array[null]::text[]", "tools entry 1 (counting from 1) \"null\"")]
    [InlineData("name => 'a', source => 'file'", "source must be sql or config")]
    public async Task UpsertAgent_BadInput_IsRefusedNamingTheField_AndNothingIsStored(string arguments, string expected)
    {
        await using var connection = _db.Open();

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<string>($"select agent.upsert_agent({arguments})"));

        Assert.Equal("22023", error.SqlState);
        Assert.StartsWith("agent.upsert_agent: ", error.MessageText, StringComparison.Ordinal);
        Assert.Contains(expected, error.MessageText, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.agents"));
    }

    [Fact]
    public async Task DeleteAgent_SaysWhetherThereWasOne_AndItsTasksKeepWhatTheyWereGiven()
    {
        await UpsertSupportAsync();
        var id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'Where is order 7?', agent => 'support')");

        Assert.True(await _db.ScalarAsync<bool>("select agent.delete_agent('support')"));
        Assert.False(await _db.ScalarAsync<bool>("select agent.delete_agent('support')"));

        Assert.Equal("support|Answer from the order history.|sim-1|5|query,everything__*|600", await TaskRowAsync(id));
        Assert.Equal("queued", await _db.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id }));
    }

    [Fact]
    public async Task ConfigOwnedAgent_CannotBeChangedOrDeletedBySql_ButTheConfigurationTakesOverAnSqlOne()
    {
        Assert.Equal("created", await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'ops', model => 'm1', source => 'config')"));
        await using var connection = _db.Open();

        var upsert = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<string>("select agent.upsert_agent(name => 'ops', model => 'm2')"));
        var delete = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<bool>("select agent.delete_agent('ops')"));

        Assert.Equal("55000", upsert.SqlState);
        Assert.Equal("agent.upsert_agent: agent \"ops\" is defined in the workers' configuration (Agents:ops); change it there", upsert.MessageText);
        Assert.Equal("55000", delete.SqlState);
        Assert.Equal("m1|config", await _db.ScalarAsync<string>("select concat_ws('|', model, source) from agent.agents where name = 'ops'"));
        await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'mine', model => 'm1')");
        Assert.Equal("updated", await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'mine', model => 'm3', source => 'config')"));
        Assert.Equal("config", await _db.ScalarAsync<string>("select source from agent.agents where name = 'mine'"));
    }

    [Fact]
    public async Task Enqueue_WithAnAgent_TakesWhatTheTaskDoesNotGive_AndTheTasksOwnValuesWin()
    {
        await UpsertSupportAsync();

        var plain = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support')");
        var own = await _db.ScalarAsync<long>("""
            select agent.enqueue(prompt => 'p', agent => 'support', instructions => 'Mine.', model => 'sim-2', max_steps => 9,
                tools => array['list_tables'], deadline => now() + interval '1 hour')
            """);
        var emptyTools = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support', tools => array[]::text[])");
        var later = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support', run_at => now() + interval '1 day')");

        Assert.Equal("support|Answer from the order history.|sim-1|5|query,everything__*|600", await TaskRowAsync(plain));
        Assert.Equal("support|Mine.|sim-2|9|list_tables|3600", await TaskRowAsync(own));
        Assert.Equal("support|Answer from the order history.|sim-1|5|query,everything__*|600", await TaskRowAsync(emptyTools));
        // deadline_after counts from the task's start
        Assert.Equal("support|Answer from the order history.|sim-1|5|query,everything__*|600", await TaskRowAsync(later));
    }

    [Fact]
    public async Task Enqueue_WithoutAnAgent_TakesTheDefaultAgentWhenThereIsOne_ElseTheOldDefaults()
    {
        var before = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', tools => array['query'])");
        await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'default', instructions => 'House rules.', max_steps => 4)");

        var after = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p')");
        var own = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', max_steps => 30)");

        Assert.Equal("-|-|-|20|query|-", await TaskRowAsync(before));
        Assert.Equal("default|House rules.|-|4|-|-", await TaskRowAsync(after));
        Assert.Equal("default|House rules.|-|30|-|-", await TaskRowAsync(own));
    }

    [Theory]
    [InlineData("agent => 'nope'", "agent.enqueue: unknown agent \"nope\"")]
    [InlineData("agent => 'support', tools => array['query', 'x*']", "agent.enqueue: tools entry 2 (counting from 1) \"x*\" is neither a tool name")]
    public async Task Enqueue_AnUnknownAgentOrABadTool_IsRefusedNamingIt_AndNothingIsStored(string arguments, string expected)
    {
        await UpsertSupportAsync();
        await using var connection = _db.Open();

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteScalarAsync<long>($"select agent.enqueue(prompt => 'p', idempotency_key => 'k', {arguments})"));

        Assert.Equal("22023", error.SqlState);
        Assert.StartsWith(expected, error.MessageText, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task Enqueue_TheIdempotencyDigest_CoversTheAgentAndTheTools_ButNotTheAgentsLaterChanges()
    {
        await UpsertSupportAsync();
        await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'billing')");
        var first = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support', idempotency_key => 'k')");
        await using var connection = _db.Open();

        var otherAgent = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'billing', idempotency_key => 'k')"));
        var noAgent = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteScalarAsync<long>("select agent.enqueue(prompt => 'p', idempotency_key => 'k')"));
        var otherTools = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support', tools => array['query'], idempotency_key => 'k')"));
        await _db.ScalarAsync<string>("select agent.upsert_agent(name => 'support', instructions => 'Changed.')");
        var same = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support', idempotency_key => 'k')");

        Assert.All([otherAgent, noAgent, otherTools], e => Assert.Equal("23505", e.SqlState));
        Assert.Contains("(agent, instructions, model, max_steps, deadline, tools)", otherAgent.MessageText, StringComparison.Ordinal);
        Assert.Contains("(tools)", otherTools.MessageText, StringComparison.Ordinal);
        Assert.Equal(first, same);
        Assert.Equal(1L, await _db.ScalarAsync<long>("select count(*) from agent.tasks"));
    }

    [Fact]
    public async Task Enqueue_ARepeatOfARequestWhoseAgentWasDeletedSince_ReturnsTheFirstTask_ANewOneIsRefused()
    {
        await UpsertSupportAsync();
        var first = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support', idempotency_key => 'k')");
        await _db.ScalarAsync<bool>("select agent.delete_agent('support')");
        await using var connection = _db.Open();

        var again = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', agent => 'support', idempotency_key => 'k')");
        var other = await Assert.ThrowsAsync<PostgresException>(() =>
            connection.ExecuteScalarAsync<long>("select agent.enqueue(prompt => 'other', agent => 'support', idempotency_key => 'k2')"));

        Assert.Equal(first, again);
        Assert.Equal("agent.enqueue: unknown agent \"support\"", other.MessageText);
    }

    [Fact]
    public async Task Enqueue_WithoutAgentOrTools_KeepsTheDigestOfBeforeAgents()
    {
        var id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'p', idempotency_key => 'old')");

        // 0007's digest, as a task enqueued before this migration stored it (max_steps 20 was its default)
        Assert.Equal(
            await _db.ScalarAsync<string>("select agent.request_digest('p', null, null, 0, 20, null, null, null)"),
            await _db.ScalarAsync<string>("select request_digest from agent.tasks where id = @id", new { id }));
    }

    [Fact]
    public async Task EnqueueMany_BatchesAndSchedules_PassTheAgentToEveryTask()
    {
        await UpsertSupportAsync();

        var many = await _db.ScalarAsync<long[]>("select agent.enqueue_many(prompts => array['a', 'b'], agent => 'support', tools => array['query'])");
        var batch = await _db.ScalarAsync<long>("select agent.enqueue_batch(name => 'nightly', prompts => array['a', 'b'], agent => 'support', max_steps => 8)");
        await _db.ScalarAsync<string>("select agent.upsert_schedule(name => 'daily', cron => '@daily', prompts => array['a'], agent => 'support')");
        var fired = await _db.ScalarAsync<long>("select agent.trigger_schedule('daily')");

        Assert.Equal("support,support", await _db.ScalarAsync<string>(
            "select string_agg(agent, ',' order by id) from agent.tasks where id = any(@many)", new { many }));
        Assert.Equal("query", await _db.ScalarAsync<string>("select array_to_string(tool_patterns, ',') from agent.tasks where id = @id", new { id = many[0] }));
        Assert.Equal("support|support,support|8", await _db.ScalarAsync<string>("""
            select concat_ws('|', (select agent from agent.batches where id = @batch), string_agg(agent, ',' order by id), max(max_steps))
              from agent.tasks where batch_id = @batch
            """, new { batch }));
        Assert.Equal("support|support|5", await _db.ScalarAsync<string>("""
            select concat_ws('|', (select agent from agent.schedules where name = 'daily'), min(agent), min(max_steps))
              from agent.tasks where batch_id = @fired
            """, new { fired }));
    }

    [Theory]
    [InlineData("select agent.enqueue_batch(name => 'n', prompts => array['a'], agent => 'nope')", "agent.enqueue_batch: unknown agent \"nope\"")]
    [InlineData("select agent.enqueue_batch(name => 'n', template => 'hi {{c}}', source_sql => 'select 1 as c', agent => 'nope')", "agent.enqueue_batch: unknown agent \"nope\"")]
    [InlineData("select agent.upsert_schedule(name => 'n', cron => '@daily', prompts => array['a'], agent => 'nope')", "agent.upsert_schedule: unknown agent \"nope\"")]
    public async Task BatchesAndSchedules_NamingAnUnknownAgent_AreRefused_AndNothingIsStored(string sql, string expected)
    {
        await using var connection = _db.Open();

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(sql));

        Assert.Equal("22023", error.SqlState);
        Assert.Equal(expected, error.MessageText);
        Assert.Equal("0|0|0", await _db.ScalarAsync<string>(
            "select concat_ws('|', (select count(*) from agent.tasks), (select count(*) from agent.batches), (select count(*) from agent.schedules))"));
    }
}
