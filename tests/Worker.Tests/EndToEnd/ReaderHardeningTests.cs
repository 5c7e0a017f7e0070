using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// What a red team got through the first round, sent by the model through the <c>query</c> tool in real runs: writes
/// a rollback does not undo, prepared transactions, log flooding, one task reading another's SQL, unbounded errors.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class ReaderHardeningTests(AgentEnvironment env) : ReaderHardeningCases(env), IClassFixture<AgentEnvironment>;

/// <summary>The tools' own database, apart from the App database (the demo's and the README's safe set-up).</summary>
public sealed class SeparateTargetEnvironment : AgentEnvironment
{
    protected override bool SeparateTarget => true;
}

/// <summary>The same attacks when the tools query a database of their own.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class ReaderHardeningSeparateTargetTests(SeparateTargetEnvironment env) : ReaderHardeningCases(env), IClassFixture<SeparateTargetEnvironment>;

/// <summary>The cases of <see cref="ReaderHardeningTests"/>, in either tool configuration.</summary>
public abstract class ReaderHardeningCases(AgentEnvironment env)
{
    private async Task<(string? Error, string Items)> RunQueryAsync(string sql)
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)", new { prompt = $"Run `{sql}`" });
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        await using var connection = env.Database.Open();
        return await connection.QuerySingleAsync<(string? Error, string Items)>(
            "select error, items::text from agent.steps where task_id = @id and kind = 'tool'", new { id });
    }

    [Theory]
    [InlineData("select pg_logical_emit_message(false, 'cdc', 'forged change event')", "permission denied for function pg_logical_emit_message")]
    [InlineData("select pg_logical_emit_message(true, 'cdc', 'forged'::bytea)", "permission denied for function pg_logical_emit_message")]
    [InlineData("select set_config('work_mem', '4GB', true), count(*) from shop.orders", "permission denied for function set_config")]
    [InlineData("do $$ begin for i in 1..100000 loop raise log 'flood %', i; end loop; end $$", "permission denied for language plpgsql")]
    [InlineData("select xpath('//a', '<r><a/></r>'::xml)", "XML is not allowed")]
    [InlineData("select xpath_exists('//a', '<r><a/></r>'::text::\"xml\")", "XML is not allowed")]
    [InlineData("select xmlexists('//a' passing ('<r><a/></r>'))", "XMLEXISTS is not allowed")]
    [InlineData("select xpath('//a', '<r><a/></r>'::U&\"\\0078ml\")", "Unicode-escaped identifiers")]
    [InlineData("select xpath('//a', '<r><a/></r>'::pg_catalog.XML)", "XML is not allowed")]
    [InlineData("select count(*) from XmlTable('//a[count(//a[count(//a) > 0]) > 0]' passing (select xmlelement(name r, xmlagg(xmlelement(name a))) from generate_series(1, 3000)) columns x text path '.')",
        "XMLTABLE is not allowed")]
    // Loops PostgreSQL cannot cancel (a 60-character query kept a backend busy long after its statement timeout).
    [InlineData("select length(normalize(repeat(U&'\\0301\\0300', 100000), NFC))", "permission denied for function normalize")]
    [InlineData("select repeat('a', 100000) is nfc normalized", "permission denied for function is_normalized")]
    [InlineData("select path '((0,0),(1,1),(2,0))' <-> path '((5,5),(6,6))'", "permission denied for function path_distance")]
    [InlineData("select polygon '((0,0),(1,1),(1,0))' @> polygon '((0,0),(1,1),(1,0))'", "permission denied for function poly_contain")]
    [InlineData("select xmlconcat('<a ' || (select string_agg('a' || g || '=\"1\"', ' ') from generate_series(1, 50000) g) || '/>')", "XMLCONCAT is not allowed")]
    [InlineData("select xmlparse(content '<a b=\"1\"/>')", "XMLPARSE is not allowed")]
    // Session and transaction advisory locks taken in bulk fill the cluster's shared lock table.
    [InlineData("select count(pg_advisory_lock(g)) from generate_series(1, 200000) g", "permission denied for function pg_advisory_lock")]
    [InlineData("select count(pg_advisory_xact_lock_shared(g)) from generate_series(1, 200000) g", "permission denied for function pg_advisory_xact_lock_shared")]
    [InlineData("select count(pg_try_advisory_lock(1, g)) from generate_series(1, 200000) g", "permission denied for function pg_try_advisory_lock")]
    // A COPY stream is not a result a query reader can take.
    [InlineData("copy (select 1) to stdout", "COPY is not supported here")]
    [InlineData("copy shop.orders to stdout with (format csv)", "COPY is not supported here")]
    public async Task Query_ThatWouldActOutsideTheTransaction_IsRefused(string sql, string expected)
    {
        var walBefore = await env.Database.ScalarAsync<long>("select (pg_current_wal_insert_lsn() - '0/0')::bigint");

        var (error, _) = await RunQueryAsync(sql);

        Assert.Contains(expected, error, StringComparison.Ordinal);
        // No message reached the WAL (what little moves is the worker's own bookkeeping).
        Assert.True(await env.Database.ScalarAsync<long>("select (pg_current_wal_insert_lsn() - '0/0')::bigint") - walBefore < 1_000_000);
    }

    [Fact]
    public async Task ServerLog_BuiltinsThatWouldFloodIt_WriteNothing()
    {
        // A WARNING per row (no such backend), and an error whose DETAIL quotes a 20 MB token: without the reader's
        // log settings, 200,000 lines and one 20 MB line in the server log.
        var (warned, _) = await RunQueryAsync("select count(pg_cancel_backend(-g)) from generate_series(1, 200000) g");
        var (failed, _) = await RunQueryAsync("select repeat('x', 20000000)::json");
        var (settings, items) = await RunQueryAsync(
            "select current_setting('log_min_messages') as log, current_setting('log_min_error_statement') as statement, current_setting('client_min_messages') as client");

        Assert.Null(warned);
        Assert.Contains("invalid input syntax for type json", failed, StringComparison.Ordinal);
        Assert.Null(settings);
        Assert.Contains("[\"fatal\",\"panic\",\"error\"]", items.Replace("\\\"", "\"", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrepareTransaction_AsTheStatement_LeavesNothingBehind()
    {
        // scripts/pg-up's cluster allows 5 prepared transactions, as production often does; scripts/pg17-up's allows
        // none: CI runs this test on both.
        var slots = await env.Database.ScalarAsync<int>("select current_setting('max_prepared_transactions')::int");

        for (var i = 0; i < 6; i++) // more than the server's slots: each must be gone before the next
        {
            var (error, _) = await RunQueryAsync($"prepare transaction 'agent-attack-{i}'");
            if (slots == 0)
            {
                Assert.Contains("prepared transactions are disabled", error, StringComparison.Ordinal);
            }
        }

        Assert.Equal(0L, await env.Database.ScalarAsync<long>("select count(*) from pg_prepared_xacts"));
    }

    [Fact]
    public async Task PgStatActivity_OneTaskCannotReadAnotherTasksSql()
    {
        var secret = "secret-" + Guid.NewGuid().ToString("N")[..8];
        var slow = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)",
            new { prompt = $"Run `select pg_sleep(3), '{secret}' as s`" });
        await env.Database.WaitUntilAsync("select count(*) >= 1 from agent.steps where task_id = @slow", new { slow });
        await Task.Delay(500, TestContext.Current.CancellationToken); // the slow call is running now

        var (error, items) = await RunQueryAsync(
            $"select count(*) as seen from pg_stat_activity where query like '%{secret[..^1]}%' and pid <> pg_backend_pid()");

        Assert.Null(error);
        Assert.Contains("[[0]]", items.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal("succeeded", await env.WaitForTaskAsync(slow));
    }

    [Fact]
    public async Task Error_QuotingAHugeInput_IsCutForTheModelAndForStorage()
    {
        var (error, items) = await RunQueryAsync("select repeat('x', 200000)::int");

        Assert.Contains("(cut: the error was", error, StringComparison.Ordinal);
        Assert.True(error!.Length < 2_200, $"{error.Length} characters stored");
        Assert.True(items.Length < 5_000, $"{items.Length} characters went back to the model");
    }

    [Theory]
    [InlineData("select c.country, count(o.id) as orders from shop.customers c join shop.orders o on o.customer_id = c.id group by c.country order by orders desc limit 3")]
    [InlineData("select id, ordered_at, rank() over (order by ordered_at desc) as r, count(*) over (partition by status) as by_status from shop.orders limit 5")]
    [InlineData("with recent as (select * from shop.orders order by ordered_at desc limit 100) select status, count(*) from recent group by status")]
    [InlineData("select jsonb_build_object('n', count(*), 'statuses', jsonb_agg(distinct status)) -> 'n' as n, json_agg(id order by id) filter (where id < 4) from shop.orders")]
    [InlineData("select percentile_cont(0.5) within group (order by price) as median, string_agg(distinct category, ',') from shop.products")]
    public async Task AnalyticSql_StillWorks_ForTheHardenedReader(string sql)
    {
        var (error, items) = await RunQueryAsync(sql);

        Assert.Null(error);
        Assert.Contains("\"rows\"", items.Replace("\\\"", "\"", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
