using AgentWorker.Jobs.Hosting;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Runs;
using Hangfire;

namespace AgentWorker.Dashboard;

/// <summary>
/// The calls that stand in for the library's front door until it lands (issue 21: <c>AddAgentTasks</c> with
/// migrations on start, <c>UseAgentWorker</c> on Hangfire's configuration, readiness as health checks). All in one
/// place so that switching is a change to this file alone; it is the only part of this host that reaches into
/// <c>src/Jobs</c>' internals.
/// </summary>
internal static class FrontDoorInterim
{
    /// <summary>Becomes <c>services.AddAgentTasks(configuration)</c> (migrations on start included).</summary>
    public static IServiceCollection AddAgentTasksWithMigrations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHostedService<MigrateOnStart>();
        return services.AddAgentTasks(configuration);
    }

    /// <summary>Becomes <c>hangfire.UseAgentStorage(connectionString).UseAgentWorker(services)</c>.</summary>
    public static IGlobalConfiguration UseAgentDashboardStorage(this IGlobalConfiguration hangfire, IConfiguration configuration, IServiceProvider services)
    {
        _ = services;
        var app = AgentJobsServiceCollectionExtensions.AppConnectionString(configuration);
        var storage = hangfire.UseAgentStorage(app);
        CancelTaskOnJobDeleted.Register(storage, app);
        return storage;
    }
}
