using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// LISTENs on <c>agent_cancel</c> (sent by <c>agent.cancel</c>) and stops the named run if it runs here, within
/// milliseconds. A missed notification is caught by the run's heartbeat, which also reads the cancel flag.
/// </summary>
public sealed partial class CancelListener(
    [FromKeyedServices(TaskStore.AppDataSourceKey)] NpgsqlDataSource dataSource,
    RunCancellations runs,
    TimeProvider time,
    ILogger<CancelListener> logger) : BackgroundService
{
    public const string Channel = "agent_cancel";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (long.TryParse(e.Payload, NumberStyles.Integer, CultureInfo.InvariantCulture, out var taskId) && runs.Cancel(taskId))
                    {
                        LogCancelled(taskId);
                    }
                };
                await using (var listen = new NpgsqlCommand("LISTEN " + Channel, connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                LogListenFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Task {TaskId}: cancel requested, stopping its run")]
    private partial void LogCancelled(long taskId);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Cancel listener lost its connection; reconnecting")]
    private partial void LogListenFailed(Exception exception);
}
