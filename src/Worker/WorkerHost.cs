using AgentWorker.Hosting;
using AgentWorker.Jobs.Hosting;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Tasks;
using Hangfire;

namespace AgentWorker.Worker;

/// <summary>The worker process: migrations and checks, the dispatcher, the socket pool and the Hangfire server.</summary>
public static class WorkerHost
{
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        var configuration = builder.Configuration;
        builder.Services.AddHostLogging(configuration);

        // Registered first: hosted services start in order, so nothing runs before the schema is there.
        builder.Services.AddHostedService<MigrateOnStart>();
        builder.Services.AddHostedService<StartupChecks>();
        builder.Services.AddAgentWorker(configuration);
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        var app = AgentJobsServiceCollectionExtensions.AppConnectionString(configuration);
        builder.Services.AddHangfire(hangfire => CancelTaskOnJobDeleted.Register(hangfire.UseAgentStorage(app), app));
        builder.Services.AddHangfireServer((services, server) =>
        {
            server.Queues = TaskQueues.All;
            server.WorkerCount = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>().Value.Concurrency;
            server.ServerName = Environment.MachineName + ":" + Environment.ProcessId;
            // A job deleted in the dashboard stops its run within about a second.
            server.CancellationCheckInterval = TimeSpan.FromSeconds(1);
            // Retries and runs waiting for a model slot come back as scheduled jobs: look for due ones every second
            // (Hangfire's default is 15 s).
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
        });
        return builder;
    }
}
