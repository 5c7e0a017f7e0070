using System.Collections.Concurrent;
using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace AgentWorker.Bench;

/// <summary>
/// The reference: plain Hangfire.PostgreSql with its default options (15 s queue poll, no long polling) in a schema of
/// its own, running a no-op job.
/// </summary>
internal static class PlainHangfire
{
    private static readonly ConcurrentQueue<double> s_latencies = new();
    private static int s_done;

    /// <summary>The no-op job: records how long after its enqueue (wall clock, in ticks) it started.</summary>
    public static void Noop(long enqueuedUtcTicks)
    {
        s_latencies.Enqueue((TimeProvider.System.GetUtcNow().UtcTicks - enqueuedUtcTicks) / (double)TimeSpan.TicksPerMillisecond);
        Interlocked.Increment(ref s_done);
    }

    /// <summary>
    /// Run in a child process (<c>Bench enqueue-ref</c>): enqueues from another process, as a client would. Enqueued in
    /// the server's own process, Hangfire.PostgreSql wakes its workers through an in-process signal, which no real
    /// client gets.
    /// </summary>
    public static async Task EnqueueFromHereAsync(string connectionString, int count, TimeSpan gap)
    {
        var client = new BackgroundJobClient(NewStorage(connectionString));
        for (var i = 0; i < count; i++)
        {
            var now = TimeProvider.System.GetUtcNow().UtcTicks;
            client.Enqueue(() => Noop(now));
            await Task.Delay(gap);
        }
    }

    private static PostgreSqlStorage Storage(BenchDatabase db)
    {
        // The worker hosts of the earlier scenarios set Hangfire's process-wide activator to their (now disposed)
        // containers; the static no-op job needs none.
        GlobalConfiguration.Configuration.UseActivator(new JobActivator());
        return NewStorage(db.ConnectionString);
    }

    private static PostgreSqlStorage NewStorage(string connectionString) => new(
        new NpgsqlConnectionFactory(connectionString, new PostgreSqlStorageOptions { SchemaName = "hangfire_ref" }),
        new PostgreSqlStorageOptions { SchemaName = "hangfire_ref" });

    /// <summary>Enqueue-to-start latency of <paramref name="samples"/> jobs enqueued one by one.</summary>
    public static async Task<List<double>> PickupAsync(BenchDatabase db, int samples, TimeSpan gap)
    {
        var storage = Storage(db);
        while (s_latencies.TryDequeue(out _))
        {
        }
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = 20 }, storage);
        s_done = 0;
        var self = Environment.ProcessPath!; // dotnet
        using (var child = Process.Start(new ProcessStartInfo(self)
        {
            ArgumentList = { typeof(PlainHangfire).Assembly.Location, "enqueue-ref", db.ConnectionString,
                samples.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ((int)gap.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) },
        })!)
        {
            await child.WaitForExitAsync();
        }
        var waited = Stopwatch.StartNew();
        while (Volatile.Read(ref s_done) < samples && waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }
        return [.. s_latencies];
    }

    /// <summary>No-op jobs per second drained by 20 workers from a queue filled beforehand.</summary>
    public static async Task<double> ThroughputAsync(BenchDatabase db, int jobs)
    {
        var storage = Storage(db);
        var client = new BackgroundJobClient(storage);
        for (var i = 0; i < jobs; i++)
        {
            client.Enqueue(() => Noop(0));
        }
        s_done = 0;
        var watch = Stopwatch.StartNew();
        using (var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = 20 }, storage))
        {
            while (Volatile.Read(ref s_done) < jobs && watch.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(20);
            }
        }
        return jobs / watch.Elapsed.TotalSeconds;
    }
}
