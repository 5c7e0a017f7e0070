namespace AgentWorker.Jobs.Agent;

/// <summary>A stored agent (<c>agent.agents</c>): its definition, and where it is defined.</summary>
public sealed record AgentDetails
{
    public required string Name { get; init; }
    public string? Instructions { get; init; }
    public string? Model { get; init; }

    /// <summary>Tool names and <c>&lt;server&gt;__*</c> patterns; null: the database tools.</summary>
    public string[]? Tools { get; init; }

    public int? MaxSteps { get; init; }
    public TimeSpan? DeadlineAfter { get; init; }

    /// <summary>
    /// <c>sql</c> (SQL or the REST API) or <c>config</c> (the workers' configuration, which owns it: SQL and REST cannot
    /// change or delete it).
    /// </summary>
    public required string Source { get; init; }

    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}
