using AgentWorker.Hosting;
using AgentWorker.Jobs.Telemetry;
using Hangfire;

namespace AgentWorker.Worker;

/// <summary>
/// The worker process, a host of the library like any user's: the agent worker (schema, read-only check, executor,
/// socket pool, Hangfire mirror and control server) on Hangfire's storage in the App database, health endpoints on
/// <c>Health:Urls</c>, logs and OpenTelemetry.
/// </summary>
public static class WorkerHost
{
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        var configuration = builder.Configuration;
        if (configuration["Worker:Concurrency"] is not null)
        {
            throw new InvalidOperationException(
                "Worker:Concurrency (Worker__Concurrency) is gone: runs no longer use Hangfire worker threads. Set Worker__MaxRuns "
                + "(agent runs in flight per process, default 256) and, if needed, Worker__ControlWorkers (Hangfire workers for control jobs, default 2).");
        }
        builder.Services.AddHostLogging(configuration);

        // Health first, so liveness answers while the rest starts (hosted services start in order).
        builder.Services.AddSingleton<HealthServer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HealthServer>());
        builder.Services.AddHealthChecks().AddAgentWorkerChecks();
        // This host is all Hangfire there is in the process: its server also serves the default queue.
        builder.Services.AddAgentWorker(configuration, worker => worker.ControlQueues.Add("default"));
        builder.Services.AddHangfire((services, hangfire) => hangfire.UseAgentStorage(configuration).UseAgentWorker(services));
        builder.Services.AddAgentOpenTelemetry(configuration, "agent-worker");
        return builder;
    }
}
