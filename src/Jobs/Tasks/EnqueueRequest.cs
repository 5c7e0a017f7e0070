using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// A task to enqueue. Only <see cref="Prompt"/> is required; the rest have the SQL API's defaults. A task's own values
/// override its <see cref="Agent"/>'s (instructions, model, max_steps, tools, deadline).
/// </summary>
public sealed record EnqueueRequest
{
    public required string Prompt { get; init; }
    public string? Instructions { get; init; }
    public string? Model { get; init; }
    public int Priority { get; init; }

    /// <summary>Model turns allowed, 1 to 200; null: the agent's, else 20.</summary>
    public int? MaxSteps { get; init; }

    public string? IdempotencyKey { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public DateTimeOffset? Deadline { get; init; }
    public JsonObject? ToolConfig { get; init; }

    /// <summary>Adds the task to an open (pending or running) batch, counted into its total.</summary>
    public long? BatchId { get; init; }

    /// <summary>
    /// A named agent (<c>agent.agents</c>) whose instructions, model, tools and limits the task takes where it gives none;
    /// null: the agent named <c>default</c> when there is one. An unknown name is refused.
    /// </summary>
    public string? Agent { get; init; }

    /// <summary>
    /// The tools the task may use: tool names or <c>&lt;server&gt;__*</c> patterns; null or empty: its agent's, else the
    /// database tools.
    /// </summary>
    public IReadOnlyList<string>? Tools { get; init; }
}
