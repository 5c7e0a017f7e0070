using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hangfire;

/// <summary>The agent worker on a host's Hangfire configuration (<c>services.AddHangfire((sp, hangfire) => ...)</c>).</summary>
public static class AgentHangfireConfigurationExtensions
{
    /// <summary>
    /// What the worker adds to Hangfire, on the host's own storage or on <see cref="UseAgentStorage(IGlobalConfiguration, IConfiguration)"/>:
    /// deleting a task's job in the dashboard cancels the task. Call it in every process whose dashboard or code can delete jobs.
    /// </summary>
    public static IGlobalConfiguration UseAgentWorker(this IGlobalConfiguration configuration, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(services);
        var app = services.GetService<AppConnection>() ?? throw new InvalidOperationException(
            "UseAgentWorker needs the agent worker's services: call services.AddAgentWorker(configuration) (or AddAgentTasks) first.");
        CancelTaskOnJobDeleted.Register(configuration, app.ConnectionString);
        return configuration;
    }

    /// <summary>
    /// Hangfire's storage in the App database (<c>ConnectionStrings:App</c>, schema <c>hangfire</c>), as the worker's
    /// own hosts configure it; for a host that has no Hangfire storage of its own.
    /// </summary>
    public static IGlobalConfiguration UseAgentStorage(this IGlobalConfiguration configuration, IConfiguration appConfiguration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(appConfiguration);
        return AgentWorker.Jobs.Hosting.HangfireStorage.UseAgentStorage(configuration,
            AgentWorkerServiceCollectionExtensions.AppConnectionString(appConfiguration));
    }
}
