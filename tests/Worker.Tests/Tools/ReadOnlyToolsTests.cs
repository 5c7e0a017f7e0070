using System.Text.Json.Nodes;
using AgentWorker.Jobs.Tools;
using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.Tools;

/// <summary>The three tools through the registry, as the model calls them, on the read-only login.</summary>
public sealed class ReadOnlyToolsTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.
    private TargetDatabase _target = null!; // Set in InitializeAsync.
    private ToolRegistry _tools = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _target = new TargetDatabase(_db.ReaderConnectionString, new ToolsOptions { Schemas = "shop", MaxRows = 5 });
        var sql = new ReadOnlySql(_target);
        _tools = new ToolRegistry([new ListTablesTool(sql, _target), new DescribeTableTool(sql, _target), new QueryTool(sql)]);
    }

    public async ValueTask DisposeAsync()
    {
        await _target.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<ToolResult> QueryAsync(string sql) =>
        _tools.InvokeAsync(new ToolCall("call_1", "query", new JsonObject { ["sql"] = sql }.ToJsonString()), TestContext.Current.CancellationToken);

    private Task<long> OrdersAsync() => _db.ScalarAsync<long>("select count(*) from shop.orders");

    [Fact]
    public async Task ListTables_ShowsOnlyTheAllowedSchemas()
    {
        var result = await _tools.InvokeAsync(new ToolCall("call_1", "list_tables", "{}"), TestContext.Current.CancellationToken);

        Assert.False(result.IsError);
        var names = JsonNode.Parse(result.Output)!["rows"]!.AsArray().Select(r => $"{r![0]}.{r[1]}").ToList();
        Assert.Equal(["shop.customers", "shop.order_items", "shop.orders", "shop.products"], names);
    }

    [Fact]
    public async Task DescribeTable_KnownTable_ListsColumnsAndKeys()
    {
        var result = await _tools.InvokeAsync(new ToolCall("call_1", "describe_table", """{"table": "shop.orders"}"""), TestContext.Current.CancellationToken);

        Assert.False(result.IsError);
        var output = JsonNode.Parse(result.Output)!;
        Assert.Equal("shop.orders", (string?)output["table"]);
        Assert.Contains("customer_id", output["columns"]!.AsArray().Select(c => (string?)c![0]));
        Assert.Contains(output["constraints"]!.AsArray(), c => ((string?)c)!.StartsWith("FOREIGN KEY (customer_id)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("orders; drop table shop.orders")]
    [InlineData("agent.tasks")]
    [InlineData("pg_catalog.pg_authid")]
    [InlineData("\"orders\" or 1=1")]
    public async Task DescribeTable_NameOutsideTheAllowedTables_IsNotFound(string table)
    {
        var result = await _tools.InvokeAsync(new ToolCall("call_1", "describe_table", new JsonObject { ["table"] = table }.ToJsonString()),
            TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("is visible", result.Output, StringComparison.Ordinal);
        Assert.Equal(5000L, await OrdersAsync());
    }

    [Fact]
    public async Task Query_Select_ReturnsCompactRows()
    {
        var result = await QueryAsync("select id, status from shop.orders where id <= 2 order by id");

        Assert.False(result.IsError);
        var output = JsonNode.Parse(result.Output)!;
        Assert.Equal(["id", "status"], output["columns"]!.AsArray().Select(c => (string?)c));
        Assert.Equal(2, output["rows"]!.AsArray().Count);
        Assert.Equal(1, (int)output["rows"]![0]![0]!);
        Assert.False(result.Truncated);
    }

    [Fact]
    public async Task Query_MoreRowsThanTheCap_IsTruncatedAndSaysSo()
    {
        var result = await QueryAsync("select id from shop.orders order by id");

        Assert.False(result.IsError);
        Assert.True(result.Truncated);
        Assert.Equal(5, result.RowCount);
        Assert.Contains("Only the first 5 of 5000 rows", result.Output, StringComparison.Ordinal);
        Assert.Equal("5000", (string?)JsonNode.Parse(result.Output)!["total_rows"]);
    }

    [Theory]
    [InlineData("delete from shop.orders")]
    [InlineData("select 1; delete from shop.orders")]
    [InlineData("select 1; commit; delete from shop.orders")]
    [InlineData("set transaction read write")]
    [InlineData("with gone as (delete from shop.orders returning *) select count(*) from gone")]
    [InlineData("create table shop.evil (id int)")]
    [InlineData("select * into shop.copy from shop.orders")]
    [InlineData("truncate shop.orders")]
    public async Task Query_AnyWrite_IsRefusedAndTheDataIsUnchanged(string sql)
    {
        var result = await QueryAsync(sql);

        Assert.True(result.IsError, result.Output);
        Assert.StartsWith("SQL error", result.Output, StringComparison.Ordinal);
        Assert.Equal(5000L, await OrdersAsync());
        Assert.False(await _db.ScalarAsync<bool>("select to_regclass('shop.evil') is not null or to_regclass('shop.copy') is not null"));
    }

    [Fact]
    public async Task Query_SyntaxError_ComesBackAsAShortMessageWithThePosition()
    {
        var result = await QueryAsync("select frm shop.orders");

        Assert.True(result.IsError);
        Assert.Matches(@"^SQL error 42\w+: .+ \(at character \d+\)$", result.Output);
    }

    [Fact]
    public async Task Query_SemicolonInsideAString_StillWorks()
    {
        var result = await QueryAsync("select ';' as semi");

        Assert.False(result.IsError);
        Assert.Equal(";", (string?)JsonNode.Parse(result.Output)!["rows"]![0]![0]);
    }

    [Theory]
    [InlineData("drop_everything", "{}", "Unknown tool \"drop_everything\"")]
    [InlineData("query", "{\"sql\": 1}", "property \"sql\" must be a string")]
    [InlineData("query", "{}", "missing required property \"sql\"")]
    [InlineData("query", "{\"sql\": \"select 1\", \"role\": \"postgres\"}", "unknown property \"role\"")]
    [InlineData("query", "not json", "not valid JSON")]
    public async Task Invoke_UnknownToolOrBadArguments_ReturnsAToolError(string tool, string arguments, string expected)
    {
        var result = await _tools.InvokeAsync(new ToolCall("call_1", tool, arguments), TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains(expected, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReaderLoginCheck_ReaderLogin_HasNoProblems()
    {
        Assert.Empty(await ReaderLoginCheck.FindProblemsAsync(_target, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ReaderLoginCheck_AdminLogin_IsRefusedNamingWhy()
    {
        await using var admin = new TargetDatabase(_db.ConnectionString, new ToolsOptions { Schemas = "shop" });

        var problems = await ReaderLoginCheck.FindProblemsAsync(admin, TestContext.Current.CancellationToken);

        Assert.Contains("is a superuser", problems);
    }

    [Fact]
    public async Task Query_ReaderAtItsConnectionLimit_IsAToolErrorAndTheServerKeepsServingOthers()
    {
        // Queries PostgreSQL cannot cancel keep their backends past the timeout; the role's connection limit is what
        // bounds how many pile up (and their memory). Two held connections stand in for two such backends.
        var role = "limited_" + Guid.NewGuid().ToString("N")[..8];
        await PostgresServer.ExecuteAsync(_db.ConnectionString, ReaderRole.CreateSql(role, ["shop"], _db.Name, "pw", connectionLimit: 2));
        var login = new Npgsql.NpgsqlConnectionStringBuilder(_db.ConnectionString) { Username = role, Password = "pw", Pooling = false }.ConnectionString;
        try
        {
            await using var target = new TargetDatabase(login, new ToolsOptions { Schemas = "shop" });
            var sql = new ReadOnlySql(target);
            await using (var first = new Npgsql.NpgsqlConnection(login))
            await using (var second = new Npgsql.NpgsqlConnection(login))
            {
                await first.OpenAsync(TestContext.Current.CancellationToken);
                await second.OpenAsync(TestContext.Current.CancellationToken);

                var refused = await sql.QueryAsync("select count(*) from shop.orders", TestContext.Current.CancellationToken);

                Assert.True(refused.IsError);
                Assert.StartsWith("SQL error 53300: the database has no connection left for the reader", refused.Output, StringComparison.Ordinal);
                Assert.Equal(5000L, await OrdersAsync()); // other logins are not affected
            }

            var served = await sql.QueryAsync("select count(*) from shop.orders", TestContext.Current.CancellationToken);

            Assert.False(served.IsError, served.Output);
        }
        finally
        {
            await PostgresServer.ExecuteAsync(_db.ConnectionString, $"drop owned by {role}; drop role {role};");
        }
    }

    [Fact]
    public async Task Query_ConcurrentCallsCleaningUpTheSamePreparedTransactions_AllAnswer()
    {
        var ct = TestContext.Current.CancellationToken;
        if (await _db.ScalarAsync<int>("select current_setting('max_prepared_transactions')::int") == 0)
        {
            // scripts/pg17-up's server allows none (scripts/pg-up's allows 5): nothing to clean up, and none can be made.
            var refused = await QueryAsync("prepare transaction 'leftover'");
            Assert.Contains("prepared transactions are disabled", refused.Output, StringComparison.Ordinal);
            return;
        }
        for (var round = 0; round < 5; round++)
        {
            // Leftovers a crashed call would leave, found by every call that ends at the same time.
            for (var i = 0; i < 3; i++)
            {
                await using var reader = new Npgsql.NpgsqlConnection(_db.ReaderConnectionString);
                await reader.OpenAsync(ct);
                await using var command = new Npgsql.NpgsqlCommand($"begin; select 1; prepare transaction 'leftover-{round}-{i}'", reader);
                await command.ExecuteNonQueryAsync(ct);
            }

            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => QueryAsync("select 1 as one")));

            Assert.All(results, r => Assert.False(r.IsError, r.Output));
            Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from pg_prepared_xacts where database = current_database()"));
        }
    }

    [Fact]
    public async Task ReaderLoginCheck_LoginThatCanWrite_IsRefusedNamingTheTable()
    {
        var role = "writer_" + Guid.NewGuid().ToString("N")[..8];
        await PostgresServer.ExecuteAsync(_db.ConnectionString, $"""
            create role {role} login password 'w' connection limit 4;
            alter role {role} set default_transaction_read_only = on;
            alter role {role} set track_activities = off;
            alter role {role} set log_min_messages = fatal;
            grant usage on schema shop to {role};
            grant select, update on shop.orders to {role};
            """);
        try
        {
            var connection = new Npgsql.NpgsqlConnectionStringBuilder(_db.ConnectionString) { Username = role, Password = "w" }.ConnectionString;
            await using var writer = new TargetDatabase(connection, new ToolsOptions { Schemas = "shop" });

            var problems = await ReaderLoginCheck.FindProblemsAsync(writer, TestContext.Current.CancellationToken);

            Assert.Equal(["can write to or owns shop.orders"], problems);
        }
        finally
        {
            await PostgresServer.ExecuteAsync(_db.ConnectionString, $"drop owned by {role}; drop role {role};");
        }
    }

    [Fact]
    public async Task Query_EveryType_ComesBackAsPostgresText_NumbersAndBooleansAsJson()
    {
        var result = await QueryAsync("""
            select 5::int as i, 12345678901::bigint as b, 2.50::numeric(5,2) as n, 0.5::float8 as f, true as t,
                   array[1, 2, 3] as a, '{"k": [1]}'::jsonb as j, '2024-01-02'::date as d, '[1,5)'::int4range as r,
                   row(1, 'x') as rec, '\x0102'::bytea as bin, 'NaN'::numeric as nan, interval '90 minutes' as iv
            """);

        Assert.False(result.IsError, result.Output);
        var row = JsonNode.Parse(result.Output)!["rows"]![0]!.AsArray();
        Assert.Equal("""[5,12345678901,2.50,0.5,true,"{1,2,3}","{\"k\": [1]}","2024-01-02","[1,5)","(1,x)","\\x0102","NaN","01:30:00"]""",
            ToolJson.Write(row));
    }

    [Fact]
    public async Task Query_HugeValuesOfAnyType_AreCutWhileStreaming()
    {
        var result = await QueryAsync(
            "select array_agg(g) as a, to_jsonb(repeat('x', 5000000)) as j, convert_to(repeat('z', 5000000), 'UTF8') as bin from generate_series(1, 2000000) g");

        Assert.False(result.IsError, result.Output);
        var row = JsonNode.Parse(result.Output)!["rows"]![0]!.AsArray();
        Assert.All(row, v => Assert.EndsWith("...(cut)", (string?)v, StringComparison.Ordinal));
        Assert.True(result.Output.Length < 20_000, $"{result.Output.Length} characters");
    }
}
