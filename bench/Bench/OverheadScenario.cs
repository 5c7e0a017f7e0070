using AgentWorker.Jobs.Llm;
using Npgsql;

namespace AgentWorker.Bench;

/// <summary>
/// With a zero-latency model, the time the worker adds per model turn (step duration minus the time inside the
/// socket) and per tool call (step duration minus the same query run bare on a pooled connection).
/// </summary>
internal static class OverheadScenario
{
    public sealed record Result(double TurnP50, double TurnP99, double ToolP50, double ToolP99, double BareQueryP50, int Turns, int ToolCalls);

    public static async Task<Result> RunAsync(BenchDatabase db, bool smoke, SimulatorProfile? profile = null)
    {
        var sim = await (profile ?? SimulatorProfile.ZeroLatency).StartAsync();
        var url = sim.BaseUrl;
        try
        {
            await using var runner = new LoopRunner(db, url, ModelTransport.WebSocket);
            await runner.RunAsync("[turns:3] warm-up", CancellationToken.None);
            var ids = new List<long>();
            for (var i = 0; i < (smoke ? 10 : 200); i++)
            {
                ids.Add((await runner.RunAsync($"[turns:3] task {i}", CancellationToken.None)).Id);
            }
            var inList = string.Join(',', ids);
            var turn = await ReadAsync(db, $"select duration_ms - model_ms from agent.steps where kind = 'model' and task_id in ({inList})");
            var tool = await ReadAsync(db, $"select duration_ms from agent.steps where kind = 'tool' and task_id in ({inList})");
            var bare = new List<double>();
            await using (var reader = NpgsqlDataSource.Create(db.ReaderConnectionString))
            {
                for (var i = 0; i < tool.Count; i++)
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await using var connection = await reader.OpenConnectionAsync();
                    await using var command = new NpgsqlCommand($"select {1 + (i % 2)} as step", connection);
                    await using var rows = await command.ExecuteReaderAsync();
                    while (await rows.ReadAsync())
                    {
                    }
                    bare.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
            var bareP50 = Stats.Percentile(bare, 50);
            var toolOverhead = tool.Select(t => t - bareP50).ToList();
            return new Result(Stats.Percentile(turn, 50), Stats.Percentile(turn, 99), Stats.Percentile(toolOverhead, 50),
                Stats.Percentile(toolOverhead, 99), bareP50, turn.Count, tool.Count);
        }
        finally
        {
            await sim.DisposeAsync();
        }
    }

    private static async Task<List<double>> ReadAsync(BenchDatabase db, string sql)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<double>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetDouble(0));
        }
        return values;
    }
}
