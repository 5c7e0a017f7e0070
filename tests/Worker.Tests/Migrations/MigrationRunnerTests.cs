using AgentWorker.Jobs.Migrations;
using AgentWorker.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AgentWorker.Tests.Migrations;

public sealed class MigrationRunnerTests(PostgresServer server)
{
    private static MigrationRunner Runner(NpgsqlDataSource dataSource) =>
        new(dataSource, NullLogger<MigrationRunner>.Instance, [AgentWorker.Jobs.Hangfire.HangfireStorage.Schema]);

    [Fact]
    public async Task MigrateAsync_EmptyDatabase_AppliesEveryFileThenIsANoOp()
    {
        await using var db = await server.CreateDatabaseAsync(migrated: false);
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var ct = TestContext.Current.CancellationToken;

        var first = await Runner(dataSource).MigrateAsync(Migration.Embedded, ct);
        var second = await Runner(dataSource).MigrateAsync(Migration.Embedded, ct);

        Assert.Equal(Migration.Embedded.Select(m => m.Name), first);
        Assert.Contains("0001_agent_schema.sql", first);
        Assert.Empty(second);
        Assert.Equal(Migration.Embedded.Count, await db.ScalarAsync<long>("select count(*) from agent.schema_migrations"));
        Assert.True(await db.ScalarAsync<bool>("select to_regclass('agent.tasks') is not null and to_regclass('hangfire.job') is not null"));
    }

    [Fact]
    public async Task MigrateAsync_AnotherLoginHoldingAdvisoryLocks_DoesNotWait()
    {
        // Any login of the database may take any advisory key, the one the runner used to take included.
        await using var db = await server.CreateDatabaseAsync(migrated: false);
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        await using var outsider = await OutsiderLogin.CreateAsync(db);
        // The key the runner used to take: "agentmig" in ASCII.
        await outsider.HoldAsync("select pg_advisory_lock(7017859920946866535)", outsider.HoldsAdvisoryLock);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(60));

        var applied = await Runner(dataSource).MigrateAsync(Migration.Embedded, limit.Token);

        Assert.Equal(Migration.Embedded.Count, applied.Count);
    }

    [Fact]
    public async Task MigrateAsync_LockHeldTooLong_FailsNamingWhoHoldsIt()
    {
        await using var db = await server.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var ct = TestContext.Current.CancellationToken;
        await using var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = "stuck-migrator" }.ConnectionString);
        await holder.OpenAsync(ct);
        await using var transaction = await holder.BeginTransactionAsync(ct);
        await using (var take = new NpgsqlCommand("lock table agent.migration_lock in access exclusive mode", holder, transaction))
        {
            await take.ExecuteNonQueryAsync(ct);
        }

        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance) { LockWait = TimeSpan.FromSeconds(2) }.MigrateAsync(Migration.Embedded, ct));

        Assert.Contains($"pid {holder.ProcessID} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("application 'stuck-migrator'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAsync_AppliedFileChanged_RefusesNamingTheFile()
    {
        await using var db = await server.CreateDatabaseAsync(migrated: false);
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var ct = TestContext.Current.CancellationToken;
        var original = new Migration("0001_first.sql", "create table agent.t1 (id int);");
        await Runner(dataSource).MigrateAsync([original], ct);

        var tampered = original with { Sql = "create table agent.t1 (id bigint);" };
        var error = await Assert.ThrowsAsync<MigrationChecksumException>(
            () => Runner(dataSource).MigrateAsync([tampered, new Migration("0002_second.sql", "create table agent.t2 (id int);")], ct));

        Assert.Equal("0001_first.sql", error.MigrationName);
        Assert.Contains("0001_first.sql", error.Message, StringComparison.Ordinal);
        Assert.False(await db.ScalarAsync<bool>("select to_regclass('agent.t2') is not null"));
    }

    [Fact]
    public async Task MigrateAsync_FailingFile_LeavesNothingOfItAndStops()
    {
        await using var db = await server.CreateDatabaseAsync(migrated: false);
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var ct = TestContext.Current.CancellationToken;

        await Assert.ThrowsAsync<PostgresException>(() => Runner(dataSource).MigrateAsync(
            [new Migration("0001_bad.sql", "create table agent.half (id int); select no_such_function();"),
             new Migration("0002_next.sql", "create table agent.next (id int);")], ct));

        Assert.False(await db.ScalarAsync<bool>("select to_regclass('agent.half') is not null or to_regclass('agent.next') is not null"));
        Assert.Equal(0L, await db.ScalarAsync<long>("select count(*) from agent.schema_migrations"));
    }

    [Fact]
    public async Task MigrateAsync_ManyProcessesAtOnce_ApplyEachFileOnce()
    {
        await using var db = await server.CreateDatabaseAsync(migrated: false);
        var ct = TestContext.Current.CancellationToken;
        var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(db.ConnectionString)).ToList();
        try
        {
            var results = await Task.WhenAll(sources.Select(s => Task.Run(() => Runner(s).MigrateAsync(Migration.Embedded, ct), ct)));

            Assert.Equal(Migration.Embedded.Count, results.Sum(r => r.Count));
            Assert.Equal(Migration.Embedded.Count, await db.ScalarAsync<long>("select count(*) from agent.schema_migrations"));
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }
    }
}
