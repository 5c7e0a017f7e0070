using System.Diagnostics;
using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// The crash test at scale: 200 tasks each refund one order through a C# tool with side effects (tests/ToolHost), run
/// by two host processes that are killed with SIGKILL at random moments and restarted. Then an operator settles every
/// call left in doubt by looking at the ledger. Every refund happens exactly once: no duplicate, none lost.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class SideEffectCrashTests(PostgresServer server) : IAsyncLifetime
{
    private const int TaskCount = 200;
    private const int MinKills = 12;
    private const int MaxKills = 30;

    /// <summary>The tasks come due over this long, so that the kills land while runs are in flight.</summary>
    private static readonly TimeSpan s_spread = TimeSpan.FromSeconds(60);

    private static readonly string[] HostSettings =
    [
        // A dead process's claim expires within 3 s; the other process looks for work every 250 ms.
        "--Worker:LeaseDuration=00:00:03", "--Worker:PollInterval=00:00:00.250", "--Worker:MaxRuns=16",
        // The window a kill can land in: after the refund is recorded, before its output is stored. Widened from the
        // 0-150 ms a real endpoint might take, so that a dozen random kills land in it more than once.
        "--ToolHost:RefundMaxDelayMs=800",
    ];

    private TestDatabase _db = null!; // Set in InitializeAsync.
    private SimulatorHost _sim = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _sim = await SimulatorHost.StartAsync("--Simulator:TimeToFirstTokenMs=60");
    }

    public async ValueTask DisposeAsync()
    {
        await _sim.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<WorkerProcess> StartHostAsync() => WorkerProcess.StartHostAsync("tests/ToolHost", "ToolHost", null,
        _db.ConnectionString, _db.ReaderConnectionString, _sim, new Dictionary<string, string>(), HostSettings);

    /// <summary>The runs a host holds now (<c>lease_owner</c> is <c>host:pid:random:task:attempt</c>).</summary>
    private Task<long> RunsHeldAsync(WorkerProcess host) => _db.ScalarAsync<long>(
        "select count(*) from agent.tasks where status = 'running' and lease_owner like '%:' || @pid || ':%'",
        new { pid = host.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>A task failed with <c>tool_in_doubt</c>, and the journal entry of the call its message names (null: none).</summary>
    private sealed record InDoubt(long Id, string ErrorMessage, string? CallId, string? ToolName, string? IdempotencyKey);

    [Fact]
    public async Task TwoHostsKilledAtRandom_EveryRefundTakesEffectExactlyOnce()
    {
        var clock = Stopwatch.StartNew();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var log = TestContext.Current.TestOutputHelper;
        // The two hosts: each slot holds the one running or starting (a killed host's replacement starts at once).
        var hosts = new[] { StartHostAsync(), StartHostAsync() };
        try
        {
            await Task.WhenAll(hosts);
            // Every fourth task refunds through the keyed tool; each task may use only its own tool.
            var ids = await _db.ScalarAsync<long[]>("""
                select array_agg(agent.enqueue(
                           prompt => format('[call:%s]{"order_id":"o-%s"}[/call]', tool, i),
                           tools => array[tool],
                           run_at => now() + (i - 1) * @spreadMs / @count * interval '1 millisecond') order by i)
                  from generate_series(1, @count) i, lateral (select case when i % 4 = 0 then 'refund_keyed' else 'refund' end) t(tool)
                """, new { count = TaskCount, spreadMs = s_spread.TotalMilliseconds });
            var keyed = await _db.ScalarAsync<long[]>(
                "select coalesce(array_agg(id order by id), '{}') from agent.tasks where id = any(@ids) and tool_patterns = array['refund_keyed']",
                new { ids });
            Assert.Equal(TaskCount / 4, keyed.Length);

            // Each host lives a random 0.5-3 s once it holds a run (however long the machine takes to get it there), then
            // is killed and restarted at once, until enough kills landed (and one of them in a refund's window), as long
            // as there is work left.
            var kills = 0;
            var struck = 0L;
            var killAt = new TimeSpan?[hosts.Length];
            while (kills < MaxKills)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
                var open = await _db.ScalarAsync<long>("select count(*) from agent.tasks where id = any(@ids) and status in ('queued', 'running')", new { ids });
                var doubts = await _db.ScalarAsync<long>("select count(*) from agent.tasks where id = any(@ids) and error_code = 'tool_in_doubt'", new { ids });
                if (open == 0 || (kills >= MinKills && doubts > 0))
                {
                    break;
                }
                for (var slot = 0; slot < hosts.Length; slot++)
                {
                    if (!hosts[slot].IsCompletedSuccessfully)
                    {
                        continue;
                    }
                    var host = await hosts[slot];
                    if (killAt[slot] is null && await RunsHeldAsync(host) > 0)
                    {
                        killAt[slot] = clock.Elapsed + TimeSpan.FromMilliseconds(random.Next(500, 3_000));
                    }
                    if (killAt[slot] is null || clock.Elapsed < killAt[slot])
                    {
                        continue;
                    }
                    using (host)
                    {
                        struck += await RunsHeldAsync(host);
                        host.Kill();
                    }
                    kills++;
                    killAt[slot] = null;
                    hosts[slot] = StartHostAsync();
                }
            }
            await Task.WhenAll(hosts);
            var killing = clock.Elapsed;
            await _db.WaitUntilAsync("select count(*) = 0 from agent.tasks where id = any(@ids) and status in ('queued', 'running')",
                new { ids }, TimeSpan.FromSeconds(90));

            // The operator: a call in doubt whose refund is in the ledger took effect (skip it), else it did not (rerun it).
            var inDoubt = new List<InDoubt>();
            var skipped = new List<long>();
            var reruns = 0;
            for (var round = 0; round < 3; round++)
            {
                await using var connection = _db.Open();
                // The call the message names (its journal entry may have finished since, if its run was alive after all).
                var found = (await connection.QueryAsync<InDoubt>("""
                    select t.id, t.error_message as ErrorMessage, c.call_id as CallId, c.tool_name as ToolName,
                           c.idempotency_key as IdempotencyKey
                      from agent.tasks t
                      left join agent.tool_calls c on c.task_id = t.id and strpos(t.error_message, c.idempotency_key) > 0
                     where t.id = any(@ids) and t.status = 'failed' and t.error_code = 'tool_in_doubt'
                     order by t.id
                    """, new { ids })).AsList();
                if (found.Count == 0)
                {
                    break;
                }
                foreach (var doubt in found)
                {
                    var done = await connection.ExecuteScalarAsync<bool>(
                        "select exists (select 1 from toolhost.refunds where idempotency_key = @IdempotencyKey)", doubt);
                    var decision = done ? "skip" : "rerun";
                    if (done)
                    {
                        skipped.Add(doubt.Id);
                    }
                    else
                    {
                        reruns++;
                    }
                    Assert.Equal("queued", await connection.ExecuteScalarAsync<string>(
                        "select agent.retry(@Id, in_doubt => @decision)", new { doubt.Id, decision }));
                }
                inDoubt.AddRange(found);
                await _db.WaitUntilAsync("select count(*) = 0 from agent.tasks where id = any(@ids) and status in ('queued', 'running')",
                    new { ids }, TimeSpan.FromSeconds(60));
            }

            await using var db = _db.Open();
            var takenOver = await db.ExecuteScalarAsync<long>("select count(*) from agent.tasks where id = any(@ids) and attempt > 1", new { ids });
            var keyedRepeats = await db.ExecuteScalarAsync<long>("select coalesce(sum(calls - 1), 0) from toolhost.keyed_refunds");
            log?.WriteLine($"seed {seed}: {kills} kills in {killing.TotalSeconds:F0} s, striking {struck} runs; {takenOver} tasks taken over; {inDoubt.Count} in doubt "
                + $"({reruns} rerun, {skipped.Count} skipped); {keyedRepeats} keyed refunds called again; {clock.Elapsed.TotalSeconds:F0} s in all");

            var unsucceeded = (await db.QueryAsync<(long Id, string Status, string? ErrorCode, string? ErrorMessage)>(
                "select id, status, error_code, error_message from agent.tasks where id = any(@ids) and status <> 'succeeded' order by id",
                new { ids })).AsList();
            Assert.True(unsucceeded.Count == 0, $"{unsucceeded.Count} tasks did not succeed: "
                + string.Join("; ", unsucceeded.Take(5).Select(t => $"{t.Id} {t.Status} {t.ErrorCode}: {t.ErrorMessage}")));
            Assert.InRange(kills, 10, MaxKills);
            Assert.True(inDoubt.Count > 0, $"none of {kills} kills landed in a refund's window: nothing was in doubt");

            // 0 duplicate effects, 0 lost effects: one ledger row per task, under the key of the task's one tool call.
            Assert.Equal(0L, await db.ExecuteScalarAsync<long>(
                "select count(*) from (select idempotency_key from toolhost.refunds group by 1 having count(*) > 1) d"));
            Assert.Equal(0L, await db.ExecuteScalarAsync<long>("""
                select count(*) from agent.tasks t
                 where t.id = any(@ids)
                   and (select count(*) from toolhost.refunds r where r.task_id = t.id)
                     + (select count(*) from toolhost.keyed_refunds k where k.task_id = t.id) <> 1
                """, new { ids }));
            Assert.Equal(0L, await db.ExecuteScalarAsync<long>("""
                select count(*) from (select task_id, idempotency_key from toolhost.refunds
                                      union all select task_id, idempotency_key from toolhost.keyed_refunds) r
                 where not exists (select 1 from agent.steps s where s.task_id = r.task_id and s.kind = 'tool'
                                      and r.idempotency_key = 'agentworker:' || s.task_id || ':' || s.call_id)
                """));
            // Each task stored its one call once; every journaled call is finished.
            Assert.Equal(0L, await db.ExecuteScalarAsync<long>("""
                select count(*) from agent.tasks t
                 where t.id = any(@ids) and (select count(*) from agent.steps s where s.task_id = t.id and s.kind = 'tool') <> 1
                """, new { ids }));
            Assert.Equal(0L, await db.ExecuteScalarAsync<long>("select count(*) from agent.tool_calls where finished_at is null"));

            // Each call in doubt was reported as such, naming the tool, the call and its key; never a keyed refund's.
            Assert.All(inDoubt, d =>
            {
                Assert.True(d.CallId is not null && d.ToolName is not null && d.IdempotencyKey is not null,
                    $"task {d.Id}: the message names no journaled call: {d.ErrorMessage}");
                Assert.Equal("refund", d.ToolName);
                Assert.Equal($"agentworker:{d.Id}:{d.CallId}", d.IdempotencyKey);
                Assert.Contains(d.ToolName, d.ErrorMessage, StringComparison.Ordinal);
                Assert.Contains(d.CallId, d.ErrorMessage, StringComparison.Ordinal);
                Assert.Contains(d.IdempotencyKey, d.ErrorMessage, StringComparison.Ordinal);
            });
            Assert.Empty(inDoubt.Select(d => d.Id).Intersect(keyed));
            // A skipped call's model was told so (the call's stored output), and the task still answered.
            Assert.Equal((long)skipped.Count, await db.ExecuteScalarAsync<long>(
                "select count(*) from agent.steps where task_id = any(@skipped) and kind = 'tool' and error like 'An operator skipped this call%'",
                new { skipped = skipped.ToArray() }));
        }
        finally
        {
            foreach (var host in hosts)
            {
                try
                {
                    (await host).Dispose();
                }
                catch (InvalidOperationException)
                {
                    // A host that never came up: its start already failed the test.
                }
            }
        }
    }
}
