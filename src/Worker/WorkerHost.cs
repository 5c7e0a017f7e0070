using AgentWorker.Hosting;
using AgentWorker.Jobs.Hosting;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Hangfire;
using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Telemetry;
using Hangfire;

namespace AgentWorker.Worker;

/// <summary>The worker process: migrations and checks, the run executor and its Hangfire mirror, the socket pool, and a
/// Hangfire server with a few workers for control jobs.</summary>
public static class WorkerHost
{
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        var configuration = builder.Configuration;
        builder.Services.AddHostLogging(configuration);

        // Health first, so liveness answers while the rest starts; then the schema: hosted services start in order,
        // so nothing else runs before the schema is there.
        builder.Services.AddSingleton<HealthServer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HealthServer>());
        builder.Services.AddHostedService<MigrateOnStart>();
        builder.Services.AddHostedService<StartupChecks>();
        builder.Services.AddAgentWorker(configuration);
        builder.Services.AddAgentOpenTelemetry(configuration, "agent-worker");

        if (configuration["Worker:Concurrency"] is not null)
        {
            throw new InvalidOperationException(
                "Worker:Concurrency (Worker__Concurrency) is gone: runs no longer use Hangfire worker threads. Set Worker__MaxRuns "
                + "(agent runs in flight per process, default 256) and, if needed, Worker__ControlWorkers (Hangfire workers for control jobs, default 2).");
        }
        var app = AgentJobsServiceCollectionExtensions.AppConnectionString(configuration);
        builder.Services.AddHangfire(hangfire => CancelTaskOnJobDeleted.Register(hangfire.UseAgentStorage(app), app));
        builder.Services.AddHangfireServer((services, server) =>
        {
            // Control jobs only (Requeue hand-offs, schedules, maintenance): agent runs are on the executor.
            server.Queues = [AgentTaskJob.ControlQueue, "default"];
            server.WorkerCount = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RunOptions>>().Value.ControlWorkers;
            server.ServerName = "control:" + Environment.MachineName + ":" + Environment.ProcessId;
        });
        return builder;
    }
}
