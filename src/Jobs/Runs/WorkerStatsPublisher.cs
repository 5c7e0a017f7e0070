using System.Text.Json;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// Writes this process's runs and socket pool statistics to <c>agent.worker_stats</c> every few seconds, for the
/// dashboard's pool view; removes its row when it stops, and rows of processes silent for 5 minutes.
/// </summary>
internal sealed partial class WorkerStatsPublisher(
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource,
    SocketPool pool,
    RunExecutor executor,
    IEnumerable<WorkerStatsSection> sections,
    TimeProvider time,
    ILogger<WorkerStatsPublisher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await PublishAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                LogPublishFailed(ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal async Task PublishAsync(CancellationToken cancellationToken)
    {
        var stats = pool.Statistics;
        var figures = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["open"] = stats.Total, ["idle"] = stats.Idle, ["leased"] = stats.Leased, ["waiters"] = stats.Waiters,
            ["handshakes"] = stats.Handshakes, ["reuses"] = stats.Reuses, ["recycles"] = stats.Recycles, ["pruned"] = stats.Pruned,
            ["failures"] = stats.Failures.ToDictionary(f => f.Key.ToString(), f => f.Value),
        };
        foreach (var section in sections)
        {
            figures[section.Key] = section.Read();
        }
        var json = JsonSerializer.Serialize(figures);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into agent.worker_stats (process, host, pid, started_at, updated_at, runs, slots, pool)
            values (@process, @host, @pid, @startedAt, now(), @runs, @slots, @json::jsonb)
            on conflict (process) do update set updated_at = now(), runs = excluded.runs, slots = excluded.slots, pool = excluded.pool;
            delete from agent.worker_stats where updated_at < now() - interval '5 minutes';
            """, new
        {
            process = ProcessInstance.Id, host = Environment.MachineName, pid = Environment.ProcessId,
            startedAt = _startedAt, runs = executor.Active, slots = executor.Slots, json,
        }, cancellationToken: cancellationToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "delete from agent.worker_stats where process = @process", new { process = ProcessInstance.Id }, cancellationToken: cancellationToken));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            LogPublishFailed(ex); // the row expires from the view on its own
        }
    }

    [LoggerMessage(EventId = 5100, Level = LogLevel.Warning, Message = "Publishing this worker's statistics failed")]
    private partial void LogPublishFailed(Exception exception);
}
