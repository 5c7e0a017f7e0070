namespace AgentWorker.Jobs.Agent;

/// <summary>
/// What a named agent is: the instructions, model, tools and limits a task takes where it gives none of its own. Every
/// part is optional. Written with <see cref="IAgentClient.UpsertAsync"/> (<c>agent.upsert_agent</c>) or in
/// configuration (<c>Agents__&lt;name&gt;__Instructions</c>, <c>__Model</c>, <c>__Tools__0</c> ..., <c>__MaxSteps</c>,
/// <c>__DeadlineAfter</c>).
/// </summary>
public sealed record AgentDefinition
{
    /// <summary>System instructions (at most 200,000 characters); null: the worker's <c>Agent:DefaultInstructions</c>.</summary>
    public string? Instructions { get; init; }

    /// <summary>Model name; null: the worker's <c>Llm:Model</c>.</summary>
    public string? Model { get; init; }

    /// <summary>
    /// Tool names (<c>^[a-zA-Z0-9_-]{1,64}$</c>) or <c>&lt;server&gt;__*</c> patterns (every tool of an MCP server);
    /// null or empty: the database tools.
    /// </summary>
    public IReadOnlyList<string>? Tools { get; init; }

    /// <summary>Model turns allowed, 1 to 200; null: 20.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Each task must end within this of its start (its <c>run_at</c>), or fail with <c>deadline</c>.</summary>
    public TimeSpan? DeadlineAfter { get; init; }
}
