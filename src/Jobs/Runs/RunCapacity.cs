using AgentWorker.Jobs.Llm;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// Runs this process takes on at once: <see cref="RunOptions.MaxRuns"/>, but over WebSocket no more than the pool has
/// sockets, since a run holds its socket for its whole life. A task this process could not give a socket to is better
/// left to another process than claimed to wait.
/// </summary>
internal sealed class RunCapacity(IOptions<RunOptions> options, IOptions<LlmOptions> llmOptions)
{
    public int Slots => options.Value.Slots(llmOptions.Value);
}
