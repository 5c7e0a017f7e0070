using System.Diagnostics;
using System.Globalization;
using Dapper;
using Npgsql;

namespace AgentWorker.Testing;

/// <summary>
/// Issue 20's scenario, one way for the suite (small) and the bench (full size): two worker processes with many runs
/// in flight on a PostgreSQL of their own (<see cref="PostgresCluster"/>), then three faults in sequence, each once
/// both processes claim again after the one before: every backend terminated at once, a fast restart, a crash (an
/// immediate stop, the server down a few seconds, crash recovery at the start). Then a new set of tasks, which both
/// processes must claim. What it measures is in <see cref="Result"/>.
/// </summary>
public static class DatabaseFaultScenario
{
    /// <summary>
    /// The load: <paramref name="Tasks"/> tasks of <paramref name="Turns"/> model turns (a <c>query</c> call between
    /// two), each turn <paramref name="TurnMs"/> long; <paramref name="MaxRunsPerWorker"/> runs (and sockets) per process.
    /// Before the next fault, up to <paramref name="Refill"/> for the runs in flight to come back (a struck run's retry
    /// waits 5 s, its second 20 s).
    /// </summary>
    public sealed record Settings(
        int Tasks, int Turns, int TurnMs, int MaxRunsPerWorker, TimeSpan LeaseDuration, TimeSpan CrashDowntime, TimeSpan Refill, TimeSpan Timeout);

    /// <summary>
    /// One fault: the tasks running when it struck, how long the server was away, how long a task enqueued as soon as
    /// the server was back waited for its claim, and per worker process how long after the server was back its first
    /// claim came (null: none within the wait).
    /// </summary>
    public sealed record Fault(
        string Name, int RunsInFlight, double OutageSeconds, double NewTaskClaimSeconds, double?[] ClaimAgainSeconds, int RunsRetried = 0);

    /// <summary>
    /// The figures. A task "restarted from scratch" re-did turns it had stored: it stored more model turns than its
    /// script has, or the first turn's call twice (a run that ignored its checkpoint repeats turn 1 and every turn after
    /// it). A turn is "repeated" when the model served it but no step stored it (the run lost it to the fault and the
    /// next attempt asked again): the simulator's responses minus the stored model steps.
    /// </summary>
    public sealed record Result(
        Settings Settings,
        IReadOnlyList<Fault> Faults,
        int Succeeded,
        int InternalErrors,
        int RestartedFromScratch,
        int WrongStepSequence,
        int Resumed,
        int Retries,
        int TakenOver,
        long TurnsServed,
        long TurnsStored,
        int ProbeTasks,
        int ProbeSucceeded,
        int[] ProbeClaimsPerWorker,
        double ProbePickupP50Ms,
        bool WorkersAlive,
        double Seconds,
        string Unfinished,
        string WorkerEvents)
    {
        public long TurnsRepeated => TurnsServed - TurnsStored;

        /// <summary>Repeated turns per run that was in flight when a fault struck (a run struck twice counts twice).</summary>
        public double RepeatedPerRunStruck => TurnsRepeated / (double)Math.Max(1, Faults.Sum(f => f.RunsInFlight));

        /// <summary>Repeated turns per run a fault failed (put back for a retry or left to a take-over).</summary>
        public double RepeatedPerRunFailed => TurnsRepeated / (double)Math.Max(1, Retries + TakenOver);
    }

    public static async Task<Result> RunAsync(Settings settings, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var clock = Stopwatch.StartNew();
        void Log(string message) => log(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds,6:F1} s  {message}"));

        await using var cluster = await PostgresCluster.StartAsync(cancellationToken);
        // Unpooled: a pooled idle connection is dead after each fault.
        var db = new NpgsqlConnectionStringBuilder(cluster.AdminConnectionString) { Pooling = false }.ConnectionString;
        await using var simulator = await SimulatorHost.StartAsync($"--Simulator:TimeToFirstTokenMs={settings.TurnMs}");
        string[] options = [
            $"--Worker:MaxRuns={settings.MaxRunsPerWorker}", $"--Llm:MaxSockets={settings.MaxRunsPerWorker}",
            $"--Worker:LeaseDuration={settings.LeaseDuration:c}"];
        using var first = await WorkerProcess.StartAsync(cluster.AdminConnectionString, cluster.ReaderConnectionString, simulator, options);
        using var second = await WorkerProcess.StartAsync(cluster.AdminConnectionString, cluster.ReaderConnectionString, simulator, options);
        int[] pids = [first.Id, second.Id];
        await using var claims = ClaimWatch.Start(db, clock);
        Log($"cluster, simulator ({settings.TurnMs} ms turns) and two workers ({settings.MaxRunsPerWorker} runs each) up");

        var ids = await ScalarAsync<long[]>(db,
            "select agent.enqueue_many(prompts => array(select '[turns:' || @turns || '] fault ' || i from generate_series(1, @tasks) i))",
            new { turns = settings.Turns, tasks = settings.Tasks }, cancellationToken);
        var slots = Math.Min(settings.Tasks, 2 * settings.MaxRunsPerWorker);
        // Every slot busy with a run that stored a step: a restart from scratch would show.
        await DatabaseWait.UntilAsync(db, """
            select count(*) >= @slots from agent.tasks t
             where t.id = any(@ids) and t.status = 'running' and exists (select 1 from agent.steps s where s.task_id = t.id)
            """, new { slots, ids }, TimeSpan.FromSeconds(60), cancellationToken);

        var faults = new List<Fault>();
        var retriesBefore = new List<long>();
        async Task StrikeAsync(string name, Func<Task> fault)
        {
            var inFlight = await ScalarAsync<long>(db, "select count(*) from agent.tasks where status = 'running'", null, cancellationToken);
            retriesBefore.Add(await ScalarAsync<long>(db, RetriesSql, null, cancellationToken));
            var struck = clock.Elapsed;
            await fault();
            var back = clock.Elapsed;
            Log($"{name}: {inFlight} tasks running, server away {(back - struck).TotalSeconds:F1} s");
            // A task enqueued the moment the server is back, before any other: the NOTIFY and the claim work again.
            var fresh = await ScalarAsync<long>(db, "select agent.enqueue(prompt => '[turns:2] enqueued after: ' || @name, priority => 10)",
                new { name }, cancellationToken);
            // Each process claims again when a slot of its own is free and a task is due: the fault's runs fail and free
            // theirs; queued tasks, retries (5 s, 20 s, 1 min later) and claims left behind (after the lease) come due.
            var again = await claims.FirstClaimsAfterAsync(back, pids, settings.LeaseDuration + settings.Refill, cancellationToken);
            await DatabaseWait.UntilAsync(db, "select started_at is not null from agent.tasks where id = @fresh", new { fresh },
                settings.LeaseDuration + settings.Refill, cancellationToken);
            var claimed = await ScalarAsync<double>(db, "select extract(epoch from started_at - created_at)::float8 from agent.tasks where id = @fresh",
                new { fresh }, cancellationToken);
            Log($"{name}: a new task claimed {claimed:F2} s after it was enqueued; each worker claiming again after "
                + string.Join(" / ", again.Select(a => a is { } t ? $"{t.TotalSeconds:F1} s" : "none")));
            faults.Add(new Fault(name, (int)inFlight, (back - struck).TotalSeconds, claimed, [.. again.Select(a => a?.TotalSeconds)]));
        }

        // The next fault strikes a full load again, as far as the runs it would strike have come back in time.
        async Task RefillAsync()
        {
            var open = await ScalarAsync<long>(db, "select count(*) from agent.tasks where id = any(@ids) and status in ('queued', 'running')",
                new { ids }, cancellationToken);
            var target = (int)(0.9 * Math.Min(slots, open));
            try
            {
                await DatabaseWait.UntilAsync(db, "select count(*) >= @target from agent.tasks where status = 'running'", new { target },
                    settings.Refill, cancellationToken, TimeSpan.FromMilliseconds(200));
            }
            catch (TimeoutException)
            {
                Log($"fewer than {target} runs in flight after {settings.Refill.TotalSeconds:F0} s; the next fault strikes those");
            }
        }

        await StrikeAsync("every backend terminated", () => cluster.TerminateBackendsAsync(cancellationToken));
        await RefillAsync();
        await StrikeAsync("fast restart", () => cluster.RestartAsync(cancellationToken));
        await RefillAsync();
        await StrikeAsync($"immediate stop, start {settings.CrashDowntime.TotalSeconds:F0} s later", () => cluster.CrashAsync(settings.CrashDowntime, cancellationToken));

        var unfinished = "";
        try
        {
            await DatabaseWait.UntilAsync(db, "select not exists (select 1 from agent.tasks where id = any(@ids) and status in ('queued', 'running'))",
                new { ids }, settings.Timeout, cancellationToken, TimeSpan.FromMilliseconds(200));
        }
        catch (TimeoutException)
        {
            unfinished = await ScalarAsync<string>(db, """
                select coalesce(string_agg(format('%s %s attempt %s retries %s owner %s', id, status, attempt, retries, lease_owner), '; '), '')
                  from agent.tasks where id = any(@ids) and status in ('queued', 'running')
                """, new { ids }, cancellationToken);
        }
        Log($"the {settings.Tasks} tasks ended{(unfinished.Length > 0 ? " (not all: " + unfinished + ")" : "")}");

        // Both processes alive and claiming: more tasks than one process takes at once.
        var probeCount = settings.MaxRunsPerWorker + Math.Max(2, settings.MaxRunsPerWorker / 2);
        var probes = await ScalarAsync<long[]>(db,
            "select agent.enqueue_many(prompts => array(select '[turns:2] after the faults ' || i from generate_series(1, @n) i))",
            new { n = probeCount }, cancellationToken);
        await DatabaseWait.UntilAsync(db, "select not exists (select 1 from agent.tasks where id = any(@probes) and status in ('queued', 'running'))",
            new { probes }, TimeSpan.FromSeconds(60), cancellationToken, TimeSpan.FromMilliseconds(100));
        // The runs each fault failed: the retries stored until the next one (its write is tried again for a while).
        retriesBefore.Add(await ScalarAsync<long>(db, RetriesSql, null, cancellationToken));
        faults = [.. faults.Select((f, i) => f with { RunsRetried = (int)(retriesBefore[i + 1] - retriesBefore[i]) })];
        var probeSet = probes.ToHashSet();
        var probeClaims = pids.Select(pid => claims.Claims.Count(c => c.Pid == pid && probeSet.Contains(c.TaskId))).ToArray();
        Log($"{probeCount} tasks after the faults, claimed {string.Join(" / ", probeClaims)} by the two workers");

        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync(cancellationToken);
        // An attempt that is not a retry is a take-over: the claim expired (the run could not even store its retry).
        var tasks = await connection.QuerySingleAsync<(long Succeeded, long InternalErrors, long Retries, long TakenOver)>(new CommandDefinition("""
            select count(*) filter (where status = 'succeeded'), count(*) filter (where error_code = 'internal_error'),
                   coalesce(sum(retries), 0)::bigint, coalesce(sum(attempt - 1 - retries), 0)::bigint
              from agent.tasks where id = any(@ids)
            """, new { ids }, cancellationToken: cancellationToken));
        var steps = await connection.QuerySingleAsync<(long FromScratch, long WrongSequence, long Resumed)>(new CommandDefinition("""
            select count(*) filter (where models > @turns or first_calls > 1),
                   count(*) filter (where kinds <> @expected),
                   count(*) filter (where attempts > 1)
              from (select task_id, count(*) filter (where kind = 'model') as models,
                           count(*) filter (where kind = 'tool' and arguments like '%select 1 as step%') as first_calls,
                           string_agg(kind, ',' order by seq) as kinds, count(distinct attempt) as attempts
                      from agent.steps where task_id = any(@ids) group by task_id) s
            """, new { ids, turns = settings.Turns, expected = Expected(settings.Turns) },
            cancellationToken: cancellationToken));
        var stored = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from agent.steps where kind = 'model'", cancellationToken: cancellationToken));
        var probe = await connection.QuerySingleAsync<(long Succeeded, double PickupMs)>(new CommandDefinition("""
            select count(*) filter (where status = 'succeeded'),
                   coalesce(percentile_cont(0.5) within group (order by (extract(epoch from started_at - created_at) * 1000)::float8), 'NaN')
              from agent.tasks where id = any(@probes)
            """, new { probes }, cancellationToken: cancellationToken));

        var result = new Result(settings, faults, (int)tasks.Succeeded, (int)tasks.InternalErrors, (int)steps.FromScratch,
            (int)steps.WrongSequence, (int)steps.Resumed, (int)tasks.Retries, (int)tasks.TakenOver, simulator.Statistics.Responses, stored,
            probeCount, (int)probe.Succeeded, probeClaims, probe.PickupMs, !first.HasExited && !second.HasExited, clock.Elapsed.TotalSeconds,
            unfinished, string.Join("; ", new[] { first, second }.Select(Events)));
        Log($"{result.Succeeded} of {settings.Tasks} succeeded, {result.InternalErrors} internal errors, {result.RestartedFromScratch} restarted "
            + $"from scratch, {result.WrongStepSequence} with other steps than the script's, {result.Resumed} resumed from their steps, "
            + $"{result.Retries} retries, {result.TakenOver} take-overs; turns served {result.TurnsServed}, stored {result.TurnsStored}, repeated {result.TurnsRepeated} "
            + $"({result.RepeatedPerRunStruck:F2} per run in flight at a fault, {result.RepeatedPerRunFailed:F2} per run failed; "
            + $"retried per fault {string.Join(" / ", faults.Select(f => f.RunsRetried))}); pickup after the faults p50 {result.ProbePickupP50Ms:F1} ms; "
            + $"workers alive: {result.WorkersAlive}");
        Log($"worker logs: {result.WorkerEvents}");
        return result;
    }

    /// <summary>How often a worker logged what the faults do to it (the messages' fixed text).</summary>
    private static string Events(WorkerProcess worker)
    {
        var output = worker.Output;
        int Count(string text)
        {
            var n = 0;
            for (var i = output.IndexOf(text, StringComparison.Ordinal); i >= 0; i = output.IndexOf(text, i + text.Length, StringComparison.Ordinal))
            {
                n++;
            }
            return n;
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"worker {worker.Id}: {Count("transient failure; retry")} retries, {Count("its claim will expire")} ends not stored, "
            + $"{Count("the claim was lost")} claims lost, {Count("Claiming tasks failed")} claims failed, {Count("Heartbeat for")} heartbeats failed, "
            + $"{Count("LISTEN connection failed")} LISTEN reconnects");
    }

    private const string RetriesSql = "select coalesce(sum(retries), 0)::bigint from agent.tasks";

    /// <summary>The steps of an N-turn script in order: model, tool, model, ..., model.</summary>
    private static string Expected(int turns) => string.Join(",tool,", Enumerable.Repeat("model", turns));

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return (await connection.ExecuteScalarAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)))!;
    }
}
