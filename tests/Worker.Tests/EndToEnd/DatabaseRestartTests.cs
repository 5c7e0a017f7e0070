using System.Diagnostics;
using AgentWorker.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// A PostgreSQL of its own (<see cref="PostgresCluster"/>), restarted under load: the workers reconnect and
/// every task completes.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private PostgresCluster? _cluster;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private PostgresCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("WORKER_TEST_POSTGRES") is null)
        {
            // Docker-based runs have no local server binaries to start a second cluster with.
            Assert.Skip("Needs the local PostgreSQL of scripts/test.");
        }
        _cluster = await PostgresCluster.StartAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Restart_UnderLoad_WorkersReconnectAndEveryTaskCompletes()
    {
        var database = new TestDatabase(null!, PostgresCluster.Database, Cluster.AdminConnectionString);
        await using var sim = await SimulatorHost.StartAsync("--Simulator:TimeToFirstTokenMs=50");
        string[] settings = ["--Worker:LeaseDuration=00:00:03", "--Worker:PollInterval=00:00:01", "--Worker:MaxRuns=8"];
        using var a = await WorkerProcess.StartAsync(database.ConnectionString, Cluster.ReaderConnectionString, sim, settings);
        using var b = await WorkerProcess.StartAsync(database.ConnectionString, Cluster.ReaderConnectionString, sim, settings);
        var ids = await database.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array(select 'How many customers? #' || i from generate_series(1, 100) i))");
        var watch = Stopwatch.StartNew();
        while (await database.ScalarAsync<long>("select count(*) from agent.tasks where status = 'succeeded'") < 20)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "no progress before the restart");
            await Task.Delay(50, Ct);
        }

        await Cluster.RestartAsync(Ct);
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
