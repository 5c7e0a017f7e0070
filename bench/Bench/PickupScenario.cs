using System.Net.Http.Json;
using Npgsql;

namespace AgentWorker.Bench;

/// <summary>Enqueue (SQL from another connection, and REST) to run start, against plain Hangfire.PostgreSql defaults.</summary>
internal static class PickupScenario
{
    public sealed record Row(string Path, double P50, double P95, double P99, int Samples);

    public static async Task<List<Row>> RunAsync(BenchDatabase db, bool smoke)
    {
        var samples = smoke ? 10 : 200;
        var rows = new List<Row>();
        var sim = await SimulatorProfile.ZeroLatency.StartAsync();
        var url = sim.BaseUrl;
        try
        {
            await using (var worker = await HostedWorker.StartAsync(db, url, dashboard: true))
            {
                await using var enqueuer = new NpgsqlConnection(db.ConnectionString); // another session, as any client's
                await enqueuer.OpenAsync();
                using var http = new HttpClient { BaseAddress = worker.DashboardUrl };
                await MeasureAsync(db, async () =>
                {
                    await using var command = new NpgsqlCommand("select agent.enqueue(prompt => '[turns:1] pickup')", enqueuer);
                    return (long)(await command.ExecuteScalarAsync())!;
                }, 5); // warm-up
                rows.Add(Make("our worker, SQL enqueue", await MeasureAsync(db, async () =>
                {
                    await using var command = new NpgsqlCommand("select agent.enqueue(prompt => '[turns:1] pickup')", enqueuer);
                    return (long)(await command.ExecuteScalarAsync())!;
                }, samples)));
                rows.Add(Make("our worker, REST enqueue", await MeasureAsync(db, async () =>
                {
                    using var response = await http.PostAsJsonAsync("/api/tasks", new { prompt = "[turns:1] pickup" });
                    response.EnsureSuccessStatusCode();
                    return (long)(await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["id"]!;
                }, samples)));
            }
            var reference = await PlainHangfire.PickupAsync(db, smoke ? 3 : 20, TimeSpan.FromMilliseconds(smoke ? 200 : 700));
            rows.Add(Make("plain Hangfire.PostgreSql, defaults", reference));
        }
        finally
        {
            await sim.DisposeAsync();
        }
        foreach (var row in rows)
        {
            Console.WriteLine($"  pickup {row.Path}: p50 {Stats.Ms(row.P50)} ms, p99 {Stats.Ms(row.P99)} ms");
        }
        return rows;
    }

    private static Row Make(string path, List<double> values) =>
        new(path, Stats.Percentile(values, 50), Stats.Percentile(values, 95), Stats.Percentile(values, 99), values.Count);

    /// <summary>
    /// Enqueues <paramref name="samples"/> tasks 20 ms apart (or as many as fit while <paramref name="until"/> runs), not
    /// waiting for any, then reads created_at to started_at of each (both the database's clock).
    /// </summary>
    internal static async Task<List<double>> MeasureAsync(BenchDatabase db, Func<Task<long>> enqueue, int samples, Task? until = null)
    {
        var ids = new List<long>();
        while (ids.Count < samples && until?.IsCompleted != true)
        {
            ids.Add(await enqueue());
            await Task.Delay(20);
        }
        var list = string.Join(',', ids);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (await db.ScalarAsync<long>($"select count(*) from agent.tasks where id in ({list}) and started_at is null") > 0)
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException("pickup: tasks did not start within 2 minutes");
            }
            await Task.Delay(20);
        }
        await using var reader = new NpgsqlConnection(db.ConnectionString);
        await reader.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select (extract(epoch from started_at - created_at) * 1000)::float8 from agent.tasks where id in ({list})", reader);
        await using var rows = await command.ExecuteReaderAsync();
        var latencies = new List<double>();
        while (await rows.ReadAsync())
        {
            latencies.Add(rows.GetDouble(0));
        }
        return latencies;
    }
}
