namespace AgentWorker.Jobs.Agent;

/// <summary>What <c>agent.delete_agent</c> did.</summary>
public enum AgentDeleteOutcome
{
    /// <summary>It is gone; tasks enqueued with it keep what they were given and still run.</summary>
    Deleted,

    NotFound,

    /// <summary>The workers' configuration defines it; nothing changed (remove it there).</summary>
    DefinedInConfiguration,
}
