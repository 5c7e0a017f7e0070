using AgentWorker.Jobs.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hangfire;

/// <summary>The agent worker on a host's Hangfire configuration (<c>services.AddHangfire((sp, hangfire) => ...)</c>).</summary>
public static class AgentHangfireConfigurationExtensions
{
    /// <summary>
    /// What the worker adds to Hangfire, on the host's own storage or on <see cref="UseAgentStorage(IGlobalConfiguration, IConfiguration)"/>:
    /// deleting a task's job in the dashboard cancels the task, and control jobs stored under an earlier version's type
    /// names still run. Call it in every process whose Hangfire runs or deletes the worker's jobs.
    /// </summary>
    public static IGlobalConfiguration UseAgentWorker(this IGlobalConfiguration configuration, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(services);
        var app = services.GetService<AppConnection>() ?? throw new InvalidOperationException(
            "UseAgentWorker needs the agent worker's services: call services.AddAgentWorker(configuration) (or AddAgentTasks) first.");
        AgentWorker.Jobs.Hangfire.CancelTaskOnJobDeleted.Register(configuration, app.ConnectionString);
        // Control jobs stored by an earlier version under their old type names still run, on any storage.
        return AgentWorker.Jobs.Hangfire.MovedJobTypes.UseMovedJobTypes(configuration);
    }

    /// <summary>
    /// Hangfire's storage in the App database (<c>ConnectionStrings:App</c>, schema <c>hangfire</c>), as the worker's
    /// own hosts configure it; for a host that has no Hangfire storage of its own.
    /// </summary>
    public static IGlobalConfiguration UseAgentStorage(this IGlobalConfiguration configuration, IConfiguration appConfiguration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(appConfiguration);
        return AgentWorker.Jobs.Hangfire.HangfireStorage.UseAgentStorage(configuration,
            AgentWorkerServiceCollectionExtensions.AppConnectionString(appConfiguration));
    }
}
