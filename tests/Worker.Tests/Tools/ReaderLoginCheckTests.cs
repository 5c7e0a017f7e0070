using AgentWorker.Jobs.Tools;
using AgentWorker.Tests.Infrastructure;
using Npgsql;

namespace AgentWorker.Tests.Tools;

/// <summary>The start-up check refuses a tools login for each privilege that could write or escape, naming it.</summary>
public sealed class ReaderLoginCheckTests(PostgresServer server) : IAsyncLifetime
{
    private readonly string _role = "login_" + Guid.NewGuid().ToString("N")[..8];
    private TestDatabase _db = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        await PostgresServer.ExecuteAsync(_db.ConnectionString, ReaderRole.CreateSql(_role, ["shop"], _db.Name, "pw"));
    }

    public async ValueTask DisposeAsync()
    {
        await PostgresServer.ExecuteAsync(_db.ConnectionString, $"reassign owned by {_role} to current_user; drop owned by {_role}; drop role {_role};");
        await _db.DisposeAsync();
    }

    private async Task<IReadOnlyList<string>> ProblemsAsync()
    {
        var login = new NpgsqlConnectionStringBuilder(_db.ConnectionString) { Username = _role, Password = "pw" }.ConnectionString;
        await using var target = new TargetDatabase(login, new ToolsOptions { Schemas = "shop" });
        return await ReaderLoginCheck.FindProblemsAsync(target, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task FindProblems_LoginMadeByReaderRole_IsClean()
    {
        Assert.Empty(await ProblemsAsync());
    }

    [Theory]
    [InlineData("alter role {role} superuser", "is a superuser")]
    [InlineData("alter role {role} createrole", "can create roles")]
    [InlineData("alter role {role} createdb", "can create databases")]
    [InlineData("alter role {role} bypassrls", "bypasses row-level security")]
    [InlineData("grant pg_read_server_files to {role}", "is a member of pg_read_server_files")]
    [InlineData("grant pg_write_server_files to {role}", "is a member of pg_write_server_files")]
    [InlineData("grant pg_execute_server_program to {role}", "is a member of pg_execute_server_program")]
    [InlineData("grant pg_read_all_data to {role}", "is a member of role pg_read_all_data (SET ROLE reaches its privileges)")]
    [InlineData("grant pg_write_all_data to {role}", "is a member of role pg_write_all_data (SET ROLE reaches its privileges)")]
    [InlineData("grant create on database {db} to {role}", "can CREATE in database {db}")]
    [InlineData("grant create on schema shop to {role}", "can CREATE in schema shop")]
    [InlineData("grant insert on shop.orders to {role}", "can write to or owns shop.orders")]
    [InlineData("grant update (status) on shop.orders to {role}", "can write to or owns shop.orders")]
    [InlineData("grant delete on shop.customers to {role}", "can write to or owns shop.customers")]
    [InlineData("grant truncate on shop.products to {role}", "can write to or owns shop.products")]
    [InlineData("alter table shop.products owner to {role}", "can write to or owns shop.products")]
    [InlineData("alter role {role} reset default_transaction_read_only", "is not read-only by default")]
    [InlineData("create extension if not exists dblink", "can open other connections with dblink_exec (writes there escape the read-only transaction)")]
    [InlineData("create extension if not exists postgres_fdw; create server evil_srv foreign data wrapper postgres_fdw; grant usage on foreign server evil_srv to {role}", "can use foreign server evil_srv")]
    [InlineData("do $$ declare f regprocedure; begin for f in select oid::regprocedure from pg_proc where proname = 'pg_logical_emit_message' loop execute format('grant execute on function %s to {role}', f); end loop; end $$",
        "can EXECUTE pg_logical_emit_message (writes WAL that a rollback does not undo)")]
    [InlineData("do $$ declare f regprocedure; begin for f in select oid::regprocedure from pg_proc where proname = 'xpath_exists' loop execute format('grant execute on function %s to public', f); end loop; end $$",
        "can EXECUTE xpath_exists (XPath evaluation that PostgreSQL cannot cancel)")]
    [InlineData("grant execute on function pg_catalog.set_config(text,text,boolean) to {role}",
        "can EXECUTE set_config (changes settings in the middle of a statement)")]
    [InlineData("grant execute on function pg_catalog.xpath(text,xml,text[]) to {role}",
        "can EXECUTE xpath (XPath evaluation that PostgreSQL cannot cancel)")]
    [InlineData("grant usage on language plpgsql to public", "has USAGE on language plpgsql (DO blocks: code that can flood the server log)")]
    [InlineData("alter role {role} reset track_activities",
        "shows its SQL to the other sessions of the same login, other tasks included, in pg_stat_activity (a superuser runs: alter role {role} set track_activities = off)")]
    [InlineData("alter role {role} connection limit -1",
        "has no connection limit: queries PostgreSQL cannot cancel (some built-ins loop without checking) and their memory can pile up to the server's max_connections (an admin runs: alter role {role} connection limit 16)")]
    [InlineData("alter role {role} reset log_min_messages",
        "writes its warnings and errors to the server log (one built-in call can write gigabytes; a superuser runs: alter role {role} set log_min_messages = fatal; alter role {role} set log_min_error_statement = panic)")]
    [InlineData("grant execute on function pg_catalog.pg_advisory_lock(bigint) to {role}",
        "can EXECUTE pg_advisory_lock (advisory locks: taken in bulk they fill the cluster's shared lock table)")]
    [InlineData("grant execute on function pg_catalog.pg_try_advisory_xact_lock_shared(integer, integer) to {role}",
        "can EXECUTE pg_try_advisory_xact_lock_shared (advisory locks: taken in bulk they fill the cluster's shared lock table)")]
    [InlineData("grant execute on function pg_catalog.normalize(text, text) to {role}",
        "can EXECUTE normalize (Unicode normalization in loops PostgreSQL cannot cancel)")]
    [InlineData("grant execute on function pg_catalog.path_distance(path, path) to {role}",
        "can EXECUTE the geometric path and polygon functions: loops PostgreSQL cannot cancel")]
    public async Task FindProblems_ForbiddenPrivilege_IsNamed(string grant, string expected)
    {
        await PostgresServer.ExecuteAsync(_db.ConnectionString, grant.Replace("{role}", _role, StringComparison.Ordinal)
            .Replace("{db}", _db.Name, StringComparison.Ordinal));

        var problems = await ProblemsAsync();

        Assert.Contains(expected.Replace("{db}", _db.Name, StringComparison.Ordinal).Replace("{role}", _role, StringComparison.Ordinal), problems);
    }
}
