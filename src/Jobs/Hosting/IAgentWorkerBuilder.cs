using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker;

/// <summary>
/// What <see cref="AgentWorkerServiceCollectionExtensions.AddAgentWorker"/> returns: the place to add tools, model
/// clients and options to a worker. Everything the worker needs is already registered when a host gets it.
/// </summary>
public interface IAgentWorkerBuilder
{
    /// <summary>The host's services, for registrations of its own (options, a tool's dependencies).</summary>
    IServiceCollection Services { get; }

    /// <summary>The configuration the worker reads (<c>ConnectionStrings:App</c>, <c>Llm</c>, <c>Tools</c> ...).</summary>
    IConfiguration Configuration { get; }

    /// <summary>
    /// The Hangfire queues the worker's own Hangfire server serves: control jobs only (an operator's Requeue, schedules,
    /// retention), never agent runs. Starts as <c>agent_control</c>; a host whose own Hangfire servers should not take
    /// these jobs leaves it so, and a host that wants the worker to serve another queue of its own adds it.
    /// </summary>
    IList<string> ControlQueues { get; }
}

internal sealed class AgentWorkerBuilder(IServiceCollection services, IConfiguration configuration, IList<string> controlQueues)
    : IAgentWorkerBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration Configuration { get; } = configuration;

    public IList<string> ControlQueues { get; } = controlQueues;
}
