using System.Diagnostics;
using AgentWorker.Jobs.Llm;
using Microsoft.Extensions.DependencyInjection;
using AgentWorker.Testing;
using Npgsql;

namespace AgentWorker.Bench;

/// <summary>Throughput of 3-turn tasks as the worker count grows, and concurrent runs one process sustains with a slow model.</summary>
internal static class LoadScenario
{
    public sealed record ThroughputRow(int MaxRuns, int Tasks, double TasksPerSecond, double CommitsPerTask, double HandshakesPer100);

    public sealed record ConcurrencyResult(
        int Runs, int PeakRunning, double PeakWorkingSetMb, double BaselineMb, double KbPerRun, double Seconds, int PeakConnections, int TurnMs);

    /// <summary>Connections the worker process holds to PostgreSQL: its pools name themselves agent-*.</summary>
    private const string ConnectionsSql = "select count(*) from pg_stat_activity where application_name like 'agent-%' and datname = current_database()";

    public static async Task<(List<ThroughputRow> Rows, double PlainHangfirePerSecond)> ThroughputAsync(BenchDatabase db, bool smoke)
    {
        var rows = new List<ThroughputRow>();
        var sim = await SimulatorProfile.ZeroLatency.StartAsync();
        var url = sim.BaseUrl;
        var tasks = smoke ? 30 : 1000;
        try
        {
            foreach (var maxRuns in smoke ? [16] : new[] { 16, 64, 256 })
            {
                var sockets = maxRuns; // over WebSocket a process runs min(MaxRuns, MaxSockets) at once
                await using var worker = await HostedWorker.StartAsync(db, url, dashboard: false,
                    $"--Worker:MaxRuns={maxRuns}", $"--Llm:MaxSockets={sockets}", $"--Llm:MinWarm={sockets}");
                await RunBatchAsync(db, sockets * 2); // warm-up: JIT, pools, and every socket
                await Task.Delay(11_000); // the warm-up's commits reach pg_stat_database before the count starts
                var handshakesBefore = worker.Services.GetRequiredService<SocketPool>().Statistics.Handshakes;
                var commitsBefore = await CommitsAsync(db);
                var elapsed = await RunBatchAsync(db, tasks);
                // An idle backend reports its commits within 10 s (PostgreSQL's PGSTAT_IDLE_INTERVAL): wait them out.
                await Task.Delay(11_000);
                var commits = await CommitsAsync(db) - commitsBefore;
                var handshakes = worker.Services.GetRequiredService<SocketPool>().Statistics.Handshakes - handshakesBefore;
                rows.Add(new ThroughputRow(maxRuns, tasks, tasks / elapsed.TotalSeconds, (double)commits / tasks, handshakes * 100.0 / tasks));
                Console.WriteLine($"  throughput MaxRuns {maxRuns,3}: {Stats.Num(rows[^1].TasksPerSecond)} tasks/s, {Stats.Num(rows[^1].CommitsPerTask)} commits/task");
            }
        }
        finally
        {
            await sim.DisposeAsync();
        }
        var plain = await PlainHangfire.ThroughputAsync(db, tasks);
        Console.WriteLine($"  throughput plain Hangfire no-op jobs, 20 workers: {Stats.Num(plain)} jobs/s");
        return (rows, plain);
    }

    public static async Task<ConcurrencyResult> ConcurrencyAsync(BenchDatabase db, bool smoke)
    {
        var runs = smoke ? 50 : 2000;
        const int turnMs = 5000;
        var sim = await new SimulatorProfile(0, turnMs, 0, 0, 0).StartAsync();
        var url = sim.BaseUrl;
        try
        {
            await using var worker = await HostedWorker.StartAsync(db, url, dashboard: false,
                $"--Worker:MaxRuns={runs}", $"--Llm:MaxSockets={runs}");
            using var process = Process.GetCurrentProcess();
            GC.Collect();
            process.Refresh();
            var baseline = process.WorkingSet64;
            var peakRunning = 0;
            var peakConnections = 0;
            var peakBreakdown = "";
            var peakSet = baseline;
            var watch = Stopwatch.StartNew();
            // Three 5-second turns per task, all enqueued at once.
            await db.ScalarAsync<long[]>($"select agent.enqueue_many(prompts => array(select '[turns:3] slow ' || i from generate_series(1, {runs}) i))");
            await using var connection = new NpgsqlConnection(db.ConnectionString);
            await connection.OpenAsync();
            while (watch.Elapsed < TimeSpan.FromMinutes(5))
            {
                await using var command = new NpgsqlCommand(
                    "select count(*) filter (where status = 'running'), count(*) filter (where status in ('queued', 'running')), ("
                    + ConnectionsSql + ") from agent.tasks where prompt like '[turns:3] slow %'",
                    connection);
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                var running = (int)reader.GetInt64(0);
                var open = reader.GetInt64(1);
                if (reader.GetInt64(2) > peakConnections)
                {
                    peakConnections = (int)reader.GetInt64(2);
                    await reader.DisposeAsync();
                    await using var breakdown = new NpgsqlCommand(
                        "select string_agg(a || ' ' || n, ', ' order by a) from (select application_name a, count(*) n from pg_stat_activity "
                        + "where application_name like 'agent-%' and datname = current_database() group by 1) x", connection);
                    peakBreakdown = (string?)await breakdown.ExecuteScalarAsync() ?? "";
                }
                process.Refresh();
                peakRunning = Math.Max(peakRunning, running);
                peakSet = Math.Max(peakSet, process.WorkingSet64);
                if (open == 0)
                {
                    break;
                }
                await Task.Delay(100);
            }
            var mb = 1024.0 * 1024.0;
            Console.WriteLine($"  concurrency: peak {peakRunning} running of {runs}, working set {Stats.Num(peakSet / mb)} MB, {peakConnections} connections ({peakBreakdown})");
            var failed = await db.ScalarAsync<long>("select count(*) from agent.tasks where prompt like '[turns:3] slow %' and status <> 'succeeded'");
            if (failed > 0)
            {
                throw new InvalidOperationException($"concurrency: {failed} of {runs} tasks did not succeed");
            }
            return new ConcurrencyResult(runs, peakRunning, peakSet / mb, baseline / mb, (peakSet - baseline) / 1024.0 / Math.Max(1, peakRunning),
                watch.Elapsed.TotalSeconds, peakConnections, turnMs);
        }
        finally
        {
            await sim.DisposeAsync();
        }
    }

    /// <summary>Enqueues <paramref name="tasks"/> 3-turn tasks at once and waits until all succeeded.</summary>
    private static async Task<TimeSpan> RunBatchAsync(BenchDatabase db, int tasks)
    {
        var watch = Stopwatch.StartNew();
        var ids = await db.ScalarAsync<long[]>($"select agent.enqueue_many(prompts => array(select '[turns:3] load ' || i from generate_series(1, {tasks}) i))");
        var list = string.Join(',', ids);
        // One connection polls every 20 ms: one commit per poll, counted with the rest.
        await DatabaseWait.UntilAsync(db.ConnectionString,
            $"select not exists (select 1 from agent.tasks where id in ({list}) and status in ('queued', 'running'))", null,
            TimeSpan.FromMinutes(5), CancellationToken.None, TimeSpan.FromMilliseconds(20));
        var elapsed = watch.Elapsed;
        var failed = await db.ScalarAsync<long>($"select count(*) from agent.tasks where id in ({list}) and status <> 'succeeded'");
        return failed == 0 ? elapsed : throw new InvalidOperationException($"{failed} tasks did not succeed");
    }

    private static Task<long> CommitsAsync(BenchDatabase db) =>
        db.ScalarAsync<long>("select xact_commit from pg_stat_database where datname = current_database()");
}
