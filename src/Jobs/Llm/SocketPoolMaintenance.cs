using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Runs <see cref="SocketPool.MaintainAsync"/> every <see cref="LlmOptions.MaintenanceInterval"/> and closes the pool on
/// shutdown. Taking <see cref="SocketPoolMetrics"/> publishes the pool's instruments for the host's lifetime.
/// </summary>
#pragma warning disable CS9113 // metrics: resolved for its side effect (the instruments exist while the host runs)
internal sealed partial class SocketPoolMaintenance(
    SocketPool pool, SocketPoolMetrics metrics, IOptions<LlmOptions> options, TimeProvider time, ILogger<SocketPoolMaintenance> logger)
    : BackgroundService
#pragma warning restore CS9113
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.MaintenanceInterval, time);
        try
        {
            do
            {
                try
                {
                    await pool.MaintainAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogMaintenanceFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await pool.DisposeAsync();
    }

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Socket pool maintenance failed")]
    private partial void LogMaintenanceFailed(Exception exception);
}
