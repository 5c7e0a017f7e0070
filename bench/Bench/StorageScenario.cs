using System.Diagnostics;
using AgentWorker.Jobs.Maintenance;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Bench;

/// <summary>
/// Storage at volume: bytes per task left in <c>agent</c> and <c>hangfire</c> by realistic tasks (kilobytes of
/// encrypted reasoning per turn, tool results of several KB, an answer of a few hundred tokens), with the steps' items
/// compressed by lz4 (the migration's choice) and by pglz (PostgreSQL's default); then the retention sweep's cost
/// (rows removed per second, WAL) and the pickup latency of new tasks while it runs, against without it.
/// </summary>
internal static class StorageScenario
{
    /// <summary>5 model turns (each with ~3 KB of encrypted reasoning), 4 queries of 40 wide rows, a 1,500-character answer.</summary>
    public const string Prompt = "[turns:5][rows:40][answer_chars:1500] Look through the orders and report.";

    public const int ReasoningBytes = 3000;

    public sealed record Growth(string Compression, int Tasks, double StepsPerTask, double ItemsJsonBytesPerTask,
        double AgentBytesPerTask, double StepsBytesPerTask, double HangfireBytesPerTask, double Seconds);

    public sealed record Sweep(long Tasks, long Steps, double Seconds, long WalBytes, long BatchSize, int RestFactor);

    public sealed record Pickup(double P50, double P99, int Samples);

    public sealed record Result(List<Growth> Growth, Sweep Sweep, Pickup Without, Pickup During, Sweep Unpaced, Pickup DuringUnpaced,
        long TasksBeforeSweep, double GigabytesSwept);

    public static async Task<Result> RunAsync(Func<Func<BenchDatabase, Task<Growth>>, Task<Growth>> inFreshDatabase, BenchDatabase sweepDb, bool smoke)
    {
        var tasks = smoke ? 10 : 300;
        var growth = new List<Growth>
        {
            await inFreshDatabase(db => GrowAsync(db, "pglz", tasks)),
            await inFreshDatabase(db => GrowAsync(db, "lz4", tasks)),
        };
        foreach (var g in growth)
        {
            Console.WriteLine($"  storage {g.Compression}: {g.AgentBytesPerTask / 1024:F1} KB/task in agent ({g.ItemsJsonBytesPerTask / 1024:F1} KB of items as JSON), "
                + $"{g.HangfireBytesPerTask / 1024:F1} KB/task in hangfire");
        }

        // The sweep: copies of one real task, finished 40 days ago, then removed at the default batch size while new
        // tasks are enqueued and picked up.
        var template = await GrowAsync(sweepDb, "lz4", smoke ? 2 : 5);
        var copies = smoke ? 300 : 10_000;
        await CopyAsync(sweepDb, copies);

        var bytes = await sweepDb.ScalarAsync<long>("select sum(pg_total_relation_size(c.oid))::bigint from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'agent' and c.relkind in ('r', 'm')");
        var sim = await SimulatorProfile.ZeroLatency.StartAsync();
        try
        {
            // The worker's own recurring sweep is off: the scenario runs the sweep itself, at a known moment.
            await using var worker = await HostedWorker.StartAsync(sweepDb, sim.BaseUrl, dashboard: false, "--Retention:FinishedTasks=0");
            var samples = smoke ? 10 : 500;
            await MeasurePickupAsync(sweepDb, 5, null); // warm-up
            var without = await MeasurePickupAsync(sweepDb, samples, null);
            var paced = await SweepWhilePickingUpAsync(sweepDb, worker, new RetentionOptions(), restFactor: 20);
            // The same without pacing, in big transactions: what the pacing is for.
            await CopyAsync(sweepDb, copies);
            var unpaced = await SweepWhilePickingUpAsync(sweepDb, worker, new RetentionOptions { BatchSize = 500 }, restFactor: 0);
            return new Result(growth, paced.Sweep, without, paced.During, unpaced.Sweep, unpaced.During, copies, bytes / 1073741824.0);
        }
        finally
        {
            await sim.DisposeAsync();
        }
    }

    /// <summary>One sweep over cold rows (a checkpoint first) while one-turn tasks are enqueued and picked up.</summary>
    private static async Task<(Sweep Sweep, Pickup During)> SweepWhilePickingUpAsync(BenchDatabase db, HostedWorker worker, RetentionOptions options,
        int restFactor)
    {
        var job = new AgentWorker.Jobs.Hangfire.RetentionJob(
            new RetentionSweep(worker.Services.GetRequiredKeyedService<NpgsqlDataSource>(AppDatabase.Key), Options.Create(options),
                NullLogger<RetentionSweep>.Instance) { RestFactor = restFactor },
            worker.Services.GetRequiredService<Hangfire.JobStorage>());
        // Old rows are cold: a checkpoint has passed since they were written, so removing them logs full pages.
        await BenchDatabase.ExecuteAsync(db.ConnectionString, "checkpoint");
        var walBefore = await db.ScalarAsync<string>("select pg_current_wal_lsn()::text");
        var sweeping = job.SweepAsync(CancellationToken.None);
        var during = await MeasurePickupAsync(db, 100_000, sweeping);
        var swept = await sweeping;
        var wal = await db.ScalarAsync<long>($"select (pg_current_wal_lsn() - '{walBefore}'::pg_lsn)::bigint");
        Console.WriteLine($"  retention (batch {options.BatchSize}, rest ×{restFactor}): {swept.Tasks} tasks, {swept.Steps} steps in {swept.Took.TotalSeconds:F1} s "
            + $"({swept.Tasks / swept.Took.TotalSeconds:F0} tasks/s), WAL {wal / 1048576.0:F0} MB; pickup p99 during {Stats.Ms(during.P99)} ms ({during.Samples} samples)");
        return (new Sweep(swept.Tasks, swept.Steps, swept.Took.TotalSeconds, wal, options.BatchSize, restFactor), during);
    }

    /// <summary>Runs <paramref name="tasks"/> realistic tasks with the steps' columns on <paramref name="compression"/>.</summary>
    private static async Task<Growth> GrowAsync(BenchDatabase db, string compression, int tasks)
    {
        await BenchDatabase.ExecuteAsync(db.ConnectionString, $"""
            alter table agent.steps alter column items set compression {compression};
            alter table agent.steps alter column arguments set compression {compression};
            alter table agent.tasks alter column result_text set compression {compression};
            """);
        const string SizeSql = "select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = '{0}' and c.relkind in ('r', 'm')";
        var agentBefore = await db.ScalarAsync<long>(string.Format(System.Globalization.CultureInfo.InvariantCulture, SizeSql, "agent"));
        var stepsBefore = await db.ScalarAsync<long>("select pg_total_relation_size('agent.steps')");
        var hangfireBefore = await db.ScalarAsync<long>(string.Format(System.Globalization.CultureInfo.InvariantCulture, SizeSql, "hangfire"));
        var sim = await Testing.SimulatorHost.StartAsync("--Simulator:Reasoning=true", $"--Simulator:ReasoningBytes={ReasoningBytes}");
        var clock = Stopwatch.StartNew();
        try
        {
            await using var worker = await HostedWorker.StartAsync(db, sim.BaseUrl, dashboard: false, "--Worker:MaxRuns=32", "--Llm:MaxSockets=32");
            await BenchDatabase.ExecuteAsync(db.ConnectionString,
                $"select agent.enqueue_many(prompts => array(select '{Prompt}' from generate_series(1, {tasks})))");
            while (await db.ScalarAsync<long>("select count(*) from agent.tasks where status in ('queued', 'running')") > 0)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException("storage: tasks did not finish within 5 minutes");
                }
                await Task.Delay(100);
            }
            var failed = await db.ScalarAsync<long>("select count(*) from agent.tasks where status <> 'succeeded'");
            if (failed > 0)
            {
                throw new InvalidOperationException($"storage: {failed} tasks did not succeed: "
                    + await db.ScalarAsync<string>("select string_agg(distinct error_message, '; ') from agent.tasks where status <> 'succeeded'"));
            }
            // The mirror's last writes land off the critical path.
            await Task.Delay(1000);
        }
        finally
        {
            await sim.DisposeAsync();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        // Sizes after the autovacuum-free load: what the rows take, with their indexes and TOAST.
        await BenchDatabase.ExecuteAsync(db.ConnectionString, "vacuum analyze agent.steps, agent.tasks");
        var agent = await db.ScalarAsync<long>(string.Format(System.Globalization.CultureInfo.InvariantCulture, SizeSql, "agent")) - agentBefore;
        var steps = await db.ScalarAsync<long>("select pg_total_relation_size('agent.steps')") - stepsBefore;
        var hangfire = await db.ScalarAsync<long>(string.Format(System.Globalization.CultureInfo.InvariantCulture, SizeSql, "hangfire")) - hangfireBefore;
        var stepCount = await db.ScalarAsync<long>("select count(*) from agent.steps");
        var json = await db.ScalarAsync<long>("select sum(octet_length(items::text))::bigint from agent.steps");
        return new Growth(compression, tasks, (double)stepCount / tasks, (double)json / tasks, (double)agent / tasks, (double)steps / tasks,
            (double)hangfire / tasks, seconds);
    }

    /// <summary>Copies of the first finished task and its steps, finished 40 days ago, in chunks.</summary>
    private static async Task CopyAsync(BenchDatabase db, int copies)
    {
        for (var done = 0; done < copies; done += 2000)
        {
            var n = Math.Min(2000, copies - done);
            await BenchDatabase.ExecuteAsync(db.ConnectionString, $"""
                with template as (select * from agent.tasks where status = 'succeeded' order by id limit 1),
                copies as (
                    insert into agent.tasks (prompt, status, created_at, started_at, finished_at, result_text, effective_model,
                                             input_tokens, cached_tokens, output_tokens, reasoning_tokens, attempt)
                    select t.prompt, t.status, now() - interval '40 days', now() - interval '40 days', now() - interval '40 days',
                           t.result_text, t.effective_model, t.input_tokens, t.cached_tokens, t.output_tokens, t.reasoning_tokens, 1
                      from template t, generate_series(1, {n})
                    returning id)
                insert into agent.steps (task_id, attempt, seq, kind, started_at, finished_at, duration_ms, ttft_ms, transport, socket_id,
                                         socket_reused, chained, response_id, input_tokens, cached_tokens, output_tokens, reasoning_tokens,
                                         tool_name, call_id, arguments, row_count, truncated, error, items, attempts, recovery,
                                         request_bytes, model_ms)
                select c.id, 1, s.seq, s.kind, s.started_at, s.finished_at, s.duration_ms, s.ttft_ms, s.transport, s.socket_id,
                       s.socket_reused, s.chained, s.response_id, s.input_tokens, s.cached_tokens, s.output_tokens, s.reasoning_tokens,
                       s.tool_name, s.call_id, s.arguments, s.row_count, s.truncated, s.error, s.items, s.attempts, s.recovery,
                       s.request_bytes, s.model_ms
                  from copies c cross join agent.steps s where s.task_id = (select id from template)
                """);
        }
        await BenchDatabase.ExecuteAsync(db.ConnectionString, "vacuum analyze agent.steps, agent.tasks");
    }

    /// <summary>One-turn tasks enqueued 20 ms apart from another session (see <see cref="PickupScenario.MeasureAsync"/>).</summary>
    private static async Task<Pickup> MeasurePickupAsync(BenchDatabase db, int samples, Task? until)
    {
        await using var enqueuer = new NpgsqlConnection(db.ConnectionString);
        await enqueuer.OpenAsync();
        var latencies = await PickupScenario.MeasureAsync(db, async () =>
        {
            await using var command = new NpgsqlCommand("select agent.enqueue(prompt => '[turns:1] pickup')", enqueuer);
            return (long)(await command.ExecuteScalarAsync())!;
        }, samples, until);
        return new Pickup(Stats.Percentile(latencies, 50), Stats.Percentile(latencies, 99), latencies.Count);
    }
}
