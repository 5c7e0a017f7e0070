using System.Text.Json.Nodes;
using AgentWorker.Jobs.Tools;
using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.Tools;

/// <summary>
/// Each defence of the SQL tools on its own: the others are switched off (or a login that could write is used),
/// and the one layer still stops its class of attack.
/// </summary>
public sealed class SafetyLayerTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        await PostgresServer.ExecuteAsync(_db.ConnectionString, "create table shop.scratch as select generate_series(1, 10) as id");
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static async Task<ToolResult> RunAsync(string connectionString, SafetyLayers layers, string sql, ToolsOptions? options = null)
    {
        await using var target = new TargetDatabase(connectionString, options ?? new ToolsOptions { Schemas = "shop" }, layers);
        return await new ReadOnlySql(target).QueryAsync(sql, TestContext.Current.CancellationToken);
    }

    private Task<long> ScratchRowsAsync() => _db.ScalarAsync<long>("select count(*) from shop.scratch");

    [Theory]
    [InlineData("delete from shop.scratch", "permission denied for table scratch")]
    [InlineData("create table shop.evil (id int)", "permission denied for schema shop")]
    [InlineData("select pg_read_file('/etc/passwd')", "permission denied for function pg_read_file")]
    [InlineData("select * from agent.tasks", "permission denied for schema agent")]
    [InlineData("select rolpassword from pg_authid", "permission denied for table pg_authid")]
    public async Task RoleAlone_ReaderLogin_IsRefusedWhatItHasNoPrivilegeFor(string sql, string expected)
    {
        // Even the login's own read-only default is overridden: only its privileges stand in the way.
        var writable = new Npgsql.NpgsqlConnectionStringBuilder(_db.ReaderConnectionString) { Options = "-c default_transaction_read_only=off" };

        var result = await RunAsync(writable.ConnectionString, SafetyLayers.None, sql);

        Assert.True(result.IsError, result.Output);
        Assert.Contains(expected, result.Output, StringComparison.Ordinal);
        Assert.Equal(10, await ScratchRowsAsync());
    }

    [Theory]
    [InlineData("delete from shop.scratch", "cannot execute DELETE in a read-only transaction")]
    [InlineData("create table shop.evil (id int)", "cannot execute CREATE TABLE in a read-only transaction")]
    public async Task SessionAlone_LoginThatCouldWrite_IsReadOnlyByDefault(string sql, string expected)
    {
        var result = await RunAsync(_db.ConnectionString, SafetyLayers.Session, sql);

        Assert.True(result.IsError, result.Output);
        Assert.Contains(expected, result.Output, StringComparison.Ordinal);
        Assert.Equal(10, await ScratchRowsAsync());
    }

    [Fact]
    public async Task SessionAlone_SlowStatement_IsCancelledByStatementTimeout()
    {
        var options = new ToolsOptions { Schemas = "shop", StatementTimeout = TimeSpan.FromMilliseconds(300) };

        var result = await RunAsync(_db.ConnectionString, SafetyLayers.Session, "select pg_sleep(30)", options);

        Assert.True(result.IsError);
        Assert.Contains("ran past its time limit", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("delete from shop.scratch", "cannot execute DELETE in a read-only transaction")]
    [InlineData("set transaction read write", "transaction read-write mode must be set before any query")]
    public async Task TransactionAlone_LoginThatCouldWrite_IsReadOnlyInsideTheCall(string sql, string expected)
    {
        var result = await RunAsync(_db.ConnectionString, SafetyLayers.Transaction, sql);

        Assert.True(result.IsError, result.Output);
        Assert.Contains(expected, result.Output, StringComparison.Ordinal);
        Assert.Equal(10, await ScratchRowsAsync());
    }

    [Theory]
    [InlineData("select 1; commit; delete from shop.scratch")]
    [InlineData("select 1; delete from shop.scratch")]
    [InlineData("rollback; delete from shop.scratch")]
    public async Task SingleStatementAlone_StackedStatements_AreRefusedByTheServer(string sql)
    {
        var result = await RunAsync(_db.ConnectionString, SafetyLayers.SingleStatement, sql);

        Assert.True(result.IsError, result.Output);
        Assert.Contains("cannot insert multiple commands into a prepared statement", result.Output, StringComparison.Ordinal);
        Assert.Equal(10, await ScratchRowsAsync());
    }

    [Fact]
    public async Task NoLayerAtAll_StackedCommitEscape_WouldDeleteTheRows()
    {
        // What the layers prevent: a plain command on a login that can write runs "select 1; commit; delete" in full.
        var result = await RunAsync(_db.ConnectionString, SafetyLayers.None, "select 1; commit; delete from shop.scratch where id > 5");

        Assert.False(result.IsError, result.Output);
        Assert.Equal(5, await ScratchRowsAsync());
    }

    [Fact]
    public async Task Caps_LongValue_IsCutWhileReadAndTheOutputStaysUnderTheLimit()
    {
        var options = new ToolsOptions { Schemas = "shop", MaxOutputChars = 2000 };

        var result = await RunAsync(_db.ReaderConnectionString, SafetyLayers.All, "select repeat('x', 20000000) as big", options);

        Assert.False(result.IsError, result.Output);
        Assert.True(result.Output.Length < 2000 + 1000, $"{result.Output.Length} characters");
        Assert.Contains("...(cut)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caps_ResultBomb_IsTruncatedAndCounted()
    {
        var options = new ToolsOptions { Schemas = "shop", MaxRows = 10 };

        var result = await RunAsync(_db.ReaderConnectionString, SafetyLayers.All, "select a.id from shop.orders a cross join shop.orders b", options);

        Assert.True(result.Truncated);
        Assert.Equal(10, result.RowCount);
        Assert.Equal("more than 10010", (string?)JsonNode.Parse(result.Output)!["total_rows"]);
    }

    [Fact]
    public async Task Reset_TheNextCallsBackend_IsOpenedAheadAndUsedOnce()
    {
        await using var target = new TargetDatabase(_db.ReaderConnectionString, new ToolsOptions { Schemas = "shop" }, SafetyLayers.All);
        var sql = new ReadOnlySql(target);
        var ct = TestContext.Current.CancellationToken;

        await sql.QueryAsync("select 1", ct);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (target.Spare is null && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, ct);
        }
        var spare = target.Spare?.ProcessID;
        var used = await sql.QueryAsync("select pg_backend_pid() as pid", ct);

        Assert.NotNull(spare);
        Assert.Contains($"[[{spare}]]", used.Output.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.NotEqual(spare, target.Spare?.ProcessID);
    }

    [Fact]
    public async Task Reset_EveryCall_GetsABackendOfItsOwn()
    {
        // A backend keeps what DISCARD ALL does not reset (compiled regular expressions, caches, the memory it grew to):
        // no backend may serve two calls.
        var options = new ToolsOptions { Schemas = "shop" };
        await using var target = new TargetDatabase(_db.ReaderConnectionString, options, SafetyLayers.All);
        var sql = new ReadOnlySql(target);
        var ct = TestContext.Current.CancellationToken;

        var pids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var result = await sql.QueryAsync("select pg_backend_pid() as pid, count(*) from shop.orders where status ~ ('^(' || repeat('a|', 2000) || 'x)$')", ct);
            Assert.False(result.IsError, result.Output);
            pids.Add(System.Text.Json.Nodes.JsonNode.Parse(result.Output[result.Output.IndexOf('{', StringComparison.Ordinal)..])!["rows"]![0]![0]!.ToString());
        }
        var prepared = await sql.QueryAsync("prepare leftover as select 1", ct);
        var executed = await sql.QueryAsync("execute leftover", ct);
        var locked = await sql.QueryAsync("select pg_advisory_lock(424242)", ct);

        Assert.Equal(3, pids.Distinct().Count());
        // Each is closed after its call (off the call's path, so within moments).
        await _db.WaitUntilAsync("select count(*) = 0 from pg_stat_activity where usename = @role and pid::text = any(@pids)",
            new { role = PostgresServer.ReaderRole, pids = pids.ToArray() }, TimeSpan.FromSeconds(10));
        Assert.False(prepared.IsError, prepared.Output);
        Assert.True(executed.IsError);
        Assert.Contains("prepared statement \\u0022leftover\\u0022 does not exist", executed.Output.Replace("\"", "\\u0022", StringComparison.Ordinal), StringComparison.Ordinal);
        // Session advisory locks are not the reader's at all: in bulk they fill the cluster's lock table.
        Assert.Contains("permission denied for function pg_advisory_lock", locked.Output, StringComparison.Ordinal);
    }
}
