namespace AgentWorker.Jobs.Runs;

/// <summary>
/// More of this process's state for the workers page, published under <paramref name="Key"/> beside the pool's figures
/// (the MCP servers' states, registered by Hosting: Runs does not know the tools).
/// </summary>
internal sealed record WorkerStatsSection(string Key, Func<object> Read);
