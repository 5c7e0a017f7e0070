using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>Real worker processes, killed with SIGKILL mid-run: tasks are finished elsewhere, resuming from their steps.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class WorkerProcessTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly string[] WorkerSettings =
    [
        "--Worker:LeaseDuration=00:00:03", "--Worker:PollInterval=00:00:01", "--Logging:LogLevel:Default=Warning",
    ];

    private static readonly string[] CleanRun = ["model", "tool", "model", "tool", "model", "tool", "model"];

    private TestDatabase _db = null!; // Set in InitializeAsync.
    private SimulatorHost _sim = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _sim = await SimulatorHost.StartAsync("--Simulator:TimeToFirstTokenMs=120");
    }

    public async ValueTask DisposeAsync()
    {
        await _sim.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<Dictionary<long, List<(int Seq, string Kind, int Attempt)>>> StepsAsync(long[] ids)
    {
        await using var connection = _db.Open();
        var rows = await connection.QueryAsync<(long TaskId, int Seq, string Kind, int Attempt)>(
            "select task_id, seq, kind, attempt from agent.steps where task_id = any(@ids) order by task_id, seq", new { ids });
        return rows.GroupBy(r => r.TaskId).ToDictionary(g => g.Key, g => g.Select(r => (r.Seq, r.Kind, r.Attempt)).ToList());
    }

    [Fact]
    public async Task KilledMidTask_AnotherWorkerResumesAfterTheLastStoredStep()
    {
        long id;
        using (var first = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, [.. WorkerSettings, "--Worker:MaxRuns=2"]))
        {
            id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
            await _db.WaitUntilAsync("select count(*) >= 3 from agent.steps where task_id = @id", new { id }, TimeSpan.FromSeconds(30));
            first.Kill();
            // The tools share the App database here: the worker says what that exposes.
            Assert.Contains("The tools query the App database", first.Output, StringComparison.Ordinal);
        }
        var storedBefore = await _db.ScalarAsync<long>("select count(*) from agent.steps where task_id = @id", new { id });
        Assert.Equal("running", await _db.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id }));

        using var second = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, [.. WorkerSettings, "--Worker:MaxRuns=2"]);
        await _db.WaitUntilAsync("select status = 'succeeded' from agent.tasks where id = @id", new { id }, TimeSpan.FromSeconds(60));

        var steps = (await StepsAsync([id]))[id];
        Assert.Equal(CleanRun, steps.Select(s => s.Kind)); // no completed turn or tool call was done twice
        Assert.Equal(Enumerable.Range(1, CleanRun.Length), steps.Select(s => s.Seq));
        Assert.All(steps.Take((int)storedBefore), s => Assert.Equal(1, s.Attempt));
        Assert.All(steps.Skip((int)storedBefore), s => Assert.Equal(2, s.Attempt));
        Assert.Equal(2, await _db.ScalarAsync<int>("select attempt from agent.tasks where id = @id", new { id }));
        var customers = await _db.ScalarAsync<long>("select count(*) from shop.customers");
        Assert.Contains($"There are {customers} rows", await _db.ScalarAsync<string>("select result_text from agent.tasks where id = @id", new { id }),
            StringComparison.Ordinal);
        // The resumed run started unchained, with the whole transcript: the server never saw a repeated turn.
        var resumedFirstTurn = await _db.ScalarAsync<bool>(
            "select chained from agent.steps where task_id = @id and attempt = 2 and kind = 'model' order by seq limit 1", new { id });
        Assert.False(resumedFirstTurn);
    }

    [Fact]
    public async Task KilledMidTask_OnAReasoningModel_TheResumedRunReplaysReasoningWithItsContent()
    {
        await using var reasoning = await SimulatorHost.StartAsync("--Simulator:TimeToFirstTokenMs=120", "--Simulator:Reasoning=true");
        long id;
        using (var first = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, reasoning, WorkerSettings))
        {
            id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
            await _db.WaitUntilAsync("select count(*) >= 3 from agent.steps where task_id = @id", new { id });
            first.Kill();
        }

        using var second = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, reasoning, WorkerSettings);
        await _db.WaitUntilAsync("select status = 'succeeded' from agent.tasks where id = @id", new { id }, TimeSpan.FromSeconds(60));

        // The resumed run's first turn was a full resend of the stored transcript, reasoning items included (the
        // simulator refuses one without its encrypted content with a 404, which would have failed the task).
        var steps = (await StepsAsync([id]))[id];
        Assert.Equal(CleanRun, steps.Select(s => s.Kind));
        Assert.Contains(steps, s => s.Attempt == 2 && s.Kind == "model");
        Assert.False(await _db.ScalarAsync<bool>(
            "select chained from agent.steps where task_id = @id and attempt = 2 and kind = 'model' order by seq limit 1", new { id }));
        Assert.Equal(4L, await _db.ScalarAsync<long>(
            "select count(*) from agent.steps where task_id = @id and kind = 'model' and items -> 0 ->> 'type' = 'reasoning' and items -> 0 ? 'encrypted_content'",
            new { id }));
    }

    [Fact]
    public async Task TwentyConcurrentToolCalls_Returning300MbValues_KeepTheWorkersMemoryBounded()
    {
        using var worker = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim,
            [.. WorkerSettings, "--Tools:StatementTimeout=00:02:00", "--Worker:MaxRuns=32", "--Llm:MaxSockets=32"]);
        var baseline = worker.PeakResidentMb();
        string[] values = ["repeat('x', 300000000)", "array[repeat('y', 300000000)]", "convert_to(repeat('z', 300000000), 'UTF8')"];
        var prompts = Enumerable.Range(0, 20).Select(i => $"Run `select {values[i % values.Length]} as big, {i} as n`").ToArray();

        var ids = await _db.ScalarAsync<long[]>("select agent.enqueue_many(prompts => @prompts)", new { prompts });
        await _db.WaitUntilAsync("select count(*) = 20 from agent.tasks where id = any(@ids) and status not in ('queued', 'running')",
            new { ids }, TimeSpan.FromMinutes(4));

        Assert.Equal(20L, await _db.ScalarAsync<long>("select count(*) from agent.tasks where id = any(@ids) and status = 'succeeded'", new { ids }));
        Assert.Equal(20L, await _db.ScalarAsync<long>(
            "select count(*) from agent.steps where task_id = any(@ids) and kind = 'tool' and error is null and items::text like '%...(cut)%'", new { ids }));
        // 6 GB went through the worker's tool connections; it kept about a value's cap of each.
        var peak = worker.PeakResidentMb();
        Assert.True(peak - baseline < 300, $"peak resident memory grew from {baseline:F0} MB to {peak:F0} MB");
    }

    /// <summary>
    /// The red team's shape: 10,001 rows of five 20,000-character columns (1 GB of text) behind a template batch. The
    /// expander reads only the columns the template names, no row past the cap + 1, and no more characters in all than
    /// Batches:MaxTotalChars, whichever comes first; the batch fails naming the limit.
    /// </summary>
    [Theory]
    [InlineData("Summarise customer {{id}}.", "more than 10000 rows; a batch holds at most 10000 tasks (Batches:MaxTasks)")]
    [InlineData("{{c1}} {{c2}} {{c3}} {{c4}} {{c5}}", "(Batches:MaxTotalChars)")]
    public async Task TemplateBatch_OverWideRows_KeepsTheWorkersMemoryBounded_AndFailsNamingTheLimit(string template, string expected)
    {
        using var worker = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim,
            [.. WorkerSettings, "--Tools:StatementTimeout=00:02:00"]);
        var baseline = worker.PeakResidentMb();
        const string source = """
            select i as id, repeat(md5(i::text), 625) as c1, repeat(md5((i + 1)::text), 625) as c2, repeat(md5((i + 2)::text), 625) as c3,
                   repeat(md5((i + 3)::text), 625) as c4, repeat(md5((i + 4)::text), 625) as c5
              from generate_series(1, 10001) i
            """;

        var id = await _db.ScalarAsync<long>("select agent.enqueue_batch(name => 'wide', template => @template, source_sql => @source)",
            new { template, source });
        await _db.WaitUntilAsync("select status <> 'pending' from agent.batches where id = @id", new { id }, TimeSpan.FromMinutes(4));

        var peak = worker.PeakResidentMb();
        TestContext.Current.TestOutputHelper?.WriteLine($"{template}: peak resident memory {baseline:F0} MB -> {peak:F0} MB");
        Assert.Equal("failed", await _db.ScalarAsync<string>("select status from agent.batches where id = @id", new { id }));
        Assert.Contains(expected, await _db.ScalarAsync<string>("select error from agent.batches where id = @id", new { id }), StringComparison.Ordinal);
        Assert.True(peak - baseline < 300, $"peak resident memory grew from {baseline:F0} MB to {peak:F0} MB");
    }

    [Fact]
    public async Task Stopped_MidTask_HandsTheTaskBackAtOnce_AndAnotherWorkerResumesIt()
    {
        // The second turn of the first task streams for 20 s: the stop comes in the middle of it.
        await SimulatorFaults.InjectAsync(_sim.BaseUrl, new { kind = "slow", skip = 1, delay_ms = 20_000 }, Ct);
        long id;
        var stopWatch = System.Diagnostics.Stopwatch.StartNew();
        using (var first = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, [.. WorkerSettings, "--Worker:LeaseDuration=00:01:00"]))
        {
            id = await _db.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
            await _db.WaitUntilAsync("select count(*) >= 2 from agent.steps where task_id = @id", new { id });
            stopWatch.Restart();
            await first.StopAsync(TimeSpan.FromSeconds(30));
        }

        // Handed back, not left to its 60 s lease: queued, due now, steps kept.
        Assert.InRange(stopWatch.Elapsed.TotalSeconds, 0, 15);
        Assert.True(await _db.ScalarAsync<bool>(
            "select status = 'queued' and run_at <= now() and lease_owner is null and retries = 0 from agent.tasks where id = @id", new { id }));
        using var second = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, WorkerSettings);
        await _db.WaitUntilAsync("select status = 'succeeded' from agent.tasks where id = @id", new { id }, TimeSpan.FromSeconds(30));
        var steps = (await StepsAsync([id]))[id];
        Assert.Equal(CleanRun, steps.Select(s => s.Kind));
        Assert.Equal([1, 1, 2, 2, 2, 2, 2], steps.Select(s => s.Attempt));
    }

    [Fact]
    public async Task ThreeWorkers300Tasks_OneKilledMidRun_AllSucceedWithNoStepDoneTwice()
    {
        var settings = (string[])[.. WorkerSettings, "--Worker:MaxRuns=8"];
        using var a = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);
        using var b = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);
        using var c = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);

        var ids = await _db.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array(select 'How many orders? #' || i from generate_series(1, 300) i))");
        await _db.WaitUntilAsync("select count(*) >= 60 from agent.tasks where status = 'succeeded'", new { }, TimeSpan.FromSeconds(120));
        b.Kill();
        await _db.WaitUntilAsync("select count(*) = 300 from agent.tasks where status not in ('queued', 'running')", new { }, TimeSpan.FromSeconds(240));

        Assert.Equal(300L, await _db.ScalarAsync<long>("select count(*) from agent.tasks where status = 'succeeded'"));
        var steps = await StepsAsync(ids);
        Assert.All(ids, id => Assert.Equal(CleanRun, steps[id].Select(s => s.Kind)));
        Assert.All(ids, id => Assert.Equal(Enumerable.Range(1, CleanRun.Length), steps[id].Select(s => s.Seq)));
        Assert.True(await _db.ScalarAsync<long>("select count(*) from agent.tasks where id = any(@ids) and attempt > 1", new { ids }) > 0,
            "the killed worker held no task: nothing was taken over");
    }

    [Fact]
    public async Task ModelCap_SharedByThreeWorkers_IsNeverExceeded_AndWaitingRunsAreRescheduled()
    {
        await _db.ScalarAsync<object>("select agent.set_model_limit('sim-1', 2)");
        var settings = (string[])[.. WorkerSettings, "--Worker:MaxRuns=8"];
        using var a = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);
        using var b = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);
        using var c = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);

        var ids = await _db.ScalarAsync<long[]>(
            "select agent.enqueue_many(prompts => array(select 'How many products? #' || i from generate_series(1, 30) i))");
        await _db.WaitUntilAsync("select count(*) = 30 from agent.tasks where id = any(@ids) and status = 'succeeded'", new { ids },
            TimeSpan.FromSeconds(180));

        Assert.InRange(_sim.Statistics.PeakInFlight["sim-1"], 1, 2);
        Assert.True(await _db.ScalarAsync<long>("select sum(snoozes) from agent.tasks where id = any(@ids)", new { ids }) > 0,
            "no run ever waited: the cap was not exercised");
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.model_slots"));
        Assert.All(await _db.ScalarAsync<int[]>("select array_agg(attempt) from agent.tasks where id = any(@ids)", new { ids }),
            attempt => Assert.Equal(1, attempt));
    }

    /// <summary>
    /// Two worker processes: a configuration schedule firing every second makes exactly one batch per Hangfire fire, and
    /// a 200-task batch whose tasks end across both processes is finished once, with one follow-up.
    /// </summary>
    [Fact]
    public async Task TwoWorkers_OneBatchPerScheduleFire_And200TasksFinishTheirBatchOnce()
    {
        var settings = (string[])[.. WorkerSettings, "--Worker:MaxRuns=16",
            "--Schedules:every-second:Cron=* * * * * *", "--Schedules:every-second:Prompts:0=How many customers are there?"];
        using var a = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);
        using var b = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim, settings);

        var batch = await _db.ScalarAsync<long>("""
            select agent.enqueue_batch(name => 'big', prompts => array(select 'How many orders? #' || i from generate_series(1, 200) i),
                                       follow_up => 'Sum them up.')
            """);
        await _db.WaitUntilAsync("select status = 'finished' from agent.batches where id = @batch", new { batch }, TimeSpan.FromSeconds(240));
        await _db.WaitUntilAsync("select count(*) >= 2 from agent.batches where schedule_name = 'every-second'", new { }, TimeSpan.FromSeconds(90));
        await _db.ScalarAsync<bool>("select agent.delete_schedule('every-second')"); // the workers drop its recurring job
        await _db.WaitUntilAsync("""
            select count(*) = 0 from hangfire.job
             where invocationdata::text like '%ScheduleJob%' and coalesce(statename, '') not in ('Succeeded', 'Failed', 'Deleted')
            """, new { }, TimeSpan.FromSeconds(60));

        Assert.Equal("finished|200|1", await _db.ScalarAsync<string>("""
            select concat_ws('|', b.status, b.succeeded, (select count(*) from agent.tasks t where t.prompt like 'Sum them up.%'))
              from agent.batches b where b.id = @batch
            """, new { batch }));
        var fires = await _db.ScalarAsync<long>("select count(*) from hangfire.job where invocationdata::text like '%ScheduleJob%' and statename = 'Succeeded'");
        Assert.Equal(fires, await _db.ScalarAsync<long>("select count(*) from agent.batches where schedule_name = 'every-second'"));
        Assert.Equal(fires, await _db.ScalarAsync<long>("select count(distinct fire_key) from agent.batches where schedule_name = 'every-second'"));
        Assert.Equal(2L, await _db.ScalarAsync<long>("""
            select count(distinct s.data::jsonb ->> 'ServerId') from hangfire.state s
              join agent.tasks t on t.hangfire_job_id = s.jobid::text where t.batch_id = @batch and s.name = 'Processing'
            """, new { batch })); // both processes ran tasks of the batch
    }
}
