namespace AgentWorker.Jobs.Agent;

/// <summary>What <c>agent.upsert_agent</c> did.</summary>
public enum AgentUpsertOutcome
{
    Created,
    Updated,

    /// <summary>It was defined exactly so already.</summary>
    Unchanged,

    /// <summary>The workers' configuration defines an agent of that name; nothing changed (change it there).</summary>
    DefinedInConfiguration,
}
