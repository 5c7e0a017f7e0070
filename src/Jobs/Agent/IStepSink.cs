using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// Where the loop stores each step as it completes (the run's checkpoint), and the journal of calls with side effects.
/// Owned by the loop, so the loop needs no store: the run executor supplies one that writes <c>agent.steps</c> and
/// <c>agent.tool_calls</c>.
/// </summary>
internal interface IStepSink
{
    Task SaveAsync(StepRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a call of a tool with side effects starts, before it runs; the step that stores its output
    /// (<see cref="StepRecord.Journaled"/>) marks it finished.
    /// </summary>
    Task StartCallAsync(CallStart start, CancellationToken cancellationToken);
}
