using AgentWorker.Jobs.Llm;

namespace AgentWorker.Bench;

/// <summary>
/// The same tasks of 1, 3, 10 and 20 model turns over (a) the warm pooled WebSocket with chaining, (b) a fresh WebSocket
/// per task, (c) HTTP/SSE per turn with full context: wall time per task and bytes sent.
/// </summary>
internal static class TransportScenario
{
    public sealed record Row(string Mode, int Turns, double P50, double P95, double BytesPerTask, int Tasks);

    public static readonly SimulatorProfile Profile = new(HandshakeMs: 120, TimeToFirstTokenMs: 120, TokensPerSecond: 400,
        PrefillMsPerKToken: 60, HttpOverheadMs: 40);

    public static async Task<List<Row>> RunAsync(BenchDatabase db, bool smoke)
    {
        var sim = await Profile.StartAsync();
        var url = sim.BaseUrl;
        var rows = new List<Row>();
        try
        {
            int[] sizes = smoke ? [1, 3] : [1, 3, 10, 20];
            var tasks = smoke ? 2 : 12;
            foreach (var turns in sizes)
            {
                foreach (var mode in new[] { "pooled-ws", "fresh-ws", "http" })
                {
                    await using var runner = new LoopRunner(db, url, mode == "http" ? ModelTransport.Http : ModelTransport.WebSocket);
                    await runner.RunAsync($"[turns:{turns}] warm-up", CancellationToken.None); // JIT, pools; not measured
                    var walls = new List<double>();
                    var ids = new List<long>();
                    for (var i = 0; i < tasks; i++)
                    {
                        if (mode == "fresh-ws")
                        {
                            runner.Pool.Clear(); // no warm socket: this task pays the handshake
                        }
                        var (wall, id) = await runner.RunAsync($"[turns:{turns}] task {i}", CancellationToken.None);
                        walls.Add(wall);
                        ids.Add(id);
                    }
                    var bytes = await db.ScalarAsync<long>(
                        $"select coalesce(sum(request_bytes), 0)::bigint from agent.steps where task_id in ({string.Join(',', ids)})");
                    rows.Add(new Row(mode, turns, Stats.Percentile(walls, 50), Stats.Percentile(walls, 95), (double)bytes / tasks, tasks));
                    Console.WriteLine($"  transport {mode,-9} {turns,2} turns: p50 {Stats.Ms(rows[^1].P50)} ms");
                }
            }
        }
        finally
        {
            await sim.DisposeAsync();
        }
        return rows;
    }
}
