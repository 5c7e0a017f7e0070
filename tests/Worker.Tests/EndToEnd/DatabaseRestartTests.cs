using System.Diagnostics;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Tools;
using AgentWorker.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// A PostgreSQL of its own (scripts/pg-up in a temporary folder), restarted under load: the workers reconnect and
/// every task completes.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "agent-pg-" + Guid.NewGuid().ToString("N")[..8]);
    private string _admin = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> ScriptAsync(string script, string dir)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(AgentWorker.Testing.Repository.File("scripts/" + script));
        start.Environment["PG_DIR"] = dir;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct) + await process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"{script} failed: {output}");
        return output;
    }

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("WORKER_TEST_POSTGRES") is null)
        {
            // Docker-based runs have no local server binaries to start a second cluster with.
            Assert.Skip("Needs the local PostgreSQL of scripts/test.");
        }
        await ScriptAsync("pg-up", _dir);
        var port = (await File.ReadAllTextAsync(Path.Combine(_dir, "port"), Ct)).Trim();
        _admin = $"Host=127.0.0.1;Port={port};Database=agent;Username=postgres";
        await using (var dataSource = NpgsqlDataSource.Create(_admin))
        {
            await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(Migration.Embedded, Ct);
        }
        await PostgresServer.ExecuteAsync(_admin, await File.ReadAllTextAsync(AgentWorker.Testing.Repository.File("scripts/demo-data.sql"), Ct));
        await PostgresServer.ExecuteAsync(_admin, ReaderRole.CreateSql(PostgresServer.ReaderRole, ["shop"], "agent", PostgresServer.ReaderPassword));
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            await ScriptAsync("pg-down", _dir);
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_UnderLoad_WorkersReconnectAndEveryTaskCompletes()
    {
        var database = new TestDatabase(null!, "agent", _admin);
        await using var sim = await SimulatorHost.StartAsync("--Simulator:TimeToFirstTokenMs=50");
        string[] settings = ["--Worker:LeaseDuration=00:00:03", "--Worker:PollInterval=00:00:01", "--Worker:MaxRuns=8"];
        using var a = await WorkerProcess.StartAsync(database.ConnectionString, database.ReaderConnectionString, sim, settings);
        using var b = await WorkerProcess.StartAsync(database.ConnectionString, database.ReaderConnectionString, sim, settings);
        var ids = await database.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array(select 'How many customers? #' || i from generate_series(1, 100) i))");
        var watch = Stopwatch.StartNew();
        while (await database.ScalarAsync<long>("select count(*) from agent.tasks where status = 'succeeded'") < 20)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "no progress before the restart");
            await Task.Delay(50, Ct);
        }

        await ScriptAsync("pg-restart", _dir);
        NpgsqlConnection.ClearAllPools();
        watch.Restart();
        long done;
        while ((done = await CountFinishedAsync(database)) < 100)
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(120))
            {
                Assert.Fail($"only {done} of 100 tasks finished after the restart; unfinished: {await UnfinishedAsync(database)}");
            }
            await Task.Delay(200, Ct);
        }

        Assert.Equal(100L, await database.ScalarAsync<long>("select count(*) from agent.tasks where status = 'succeeded'"));
        await using var connection = database.Open();
        var kinds = (await connection.QueryAsync<(long TaskId, string Kinds)>(
            "select task_id, string_agg(kind, ',' order by seq) from agent.steps where task_id = any(@ids) group by task_id", new { ids })).ToList();
        Assert.All(kinds, k => Assert.Equal("model,tool,model,tool,model,tool,model", k.Kinds));
    }

    private static async Task<string> UnfinishedAsync(TestDatabase database)
    {
        await using var connection = database.Open();
        var rows = await connection.QueryAsync<string>("""
            select format('task %s %s attempt %s job %s owner %s expired %s job state %s', t.id, t.status, t.attempt, t.hangfire_job_id,
                          t.lease_owner, t.lease_expires_at < now(), j.statename)
              from agent.tasks t left join hangfire.job j on j.id = t.hangfire_job_id::bigint
             where t.status in ('queued', 'running')
            """);
        return string.Join("; ", rows);
    }

    private static async Task<long> CountFinishedAsync(TestDatabase database)
    {
        try
        {
            return await database.ScalarAsync<long>("select count(*) from agent.tasks where status not in ('queued', 'running')");
        }
        catch (NpgsqlException)
        {
            return 0; // the server is still coming back
        }
    }
}
