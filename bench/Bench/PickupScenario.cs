using System.Net.Http.Json;
using Npgsql;

namespace AgentWorker.Bench;

/// <summary>Enqueue (SQL from another connection, and REST) to run start, against plain Hangfire.PostgreSql defaults.</summary>
internal static class PickupScenario
{
    public sealed record Row(string Path, double P50, double P95, double P99, int Samples);

    public static async Task<List<Row>> RunAsync(BenchDatabase db, bool smoke)
    {
        var samples = smoke ? 5 : 60;
        var rows = new List<Row>();
        var (sim, url) = await SimulatorProfile.ZeroLatency.StartAsync();
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
                }, 3); // warm-up
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
            await sim.StopAsync();
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

    /// <summary>Enqueues one task at a time and waits for its run to start: created_at to started_at, both the database's clock.</summary>
    private static async Task<List<double>> MeasureAsync(BenchDatabase db, Func<Task<long>> enqueue, int samples)
    {
        var latencies = new List<double>();
        await using var reader = new NpgsqlConnection(db.ConnectionString);
        await reader.OpenAsync();
        for (var i = 0; i < samples; i++)
        {
            var id = await enqueue();
            double? ms = null;
            for (var poll = 0; poll < 2000 && ms is null; poll++)
            {
                await using var command = new NpgsqlCommand(
                    "select extract(epoch from started_at - created_at) * 1000 from agent.tasks where id = @id and started_at is not null", reader);
                command.Parameters.AddWithValue("id", id);
                ms = (double?)(decimal?)await command.ExecuteScalarAsync();
                if (ms is null)
                {
                    await Task.Delay(5);
                }
            }
            latencies.Add(ms ?? double.NaN);
            await Task.Delay(20);
        }
        return latencies;
    }
}
