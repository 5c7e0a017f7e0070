using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// Where the loop stores each step as it completes (the run's checkpoint). Owned by the loop, so the loop needs no
/// store: the run executor supplies one that writes <c>agent.steps</c>.
/// </summary>
internal interface IStepSink
{
    Task SaveAsync(StepRecord record, CancellationToken cancellationToken);
}
