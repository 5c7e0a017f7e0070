using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Agent;

/// <summary>Named agents from C#, beside <see cref="ITaskClient"/>. Same rules as the SQL API (it calls it).</summary>
public interface IAgentClient
{
    /// <summary>Every agent, by name.</summary>
    Task<IReadOnlyList<AgentDetails>> ListAsync(CancellationToken cancellationToken);

    Task<AgentDetails?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates or replaces an agent (<c>agent.upsert_agent</c>). Tasks already enqueued keep what they were given.</summary>
    /// <exception cref="TaskValidationException">Bad input, naming the field; nothing was stored.</exception>
    Task<AgentUpsertOutcome> UpsertAsync(string name, AgentDefinition definition, CancellationToken cancellationToken);

    /// <summary>Removes an agent (<c>agent.delete_agent</c>); tasks enqueued with it keep what they were given.</summary>
    Task<AgentDeleteOutcome> DeleteAsync(string name, CancellationToken cancellationToken);
}
