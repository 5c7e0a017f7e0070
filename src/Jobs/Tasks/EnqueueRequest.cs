using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tasks;

/// <summary>A task to enqueue. Only <see cref="Prompt"/> is required; the rest have the SQL API's defaults.</summary>
public sealed record EnqueueRequest
{
    public required string Prompt { get; init; }
    public string? Instructions { get; init; }
    public string? Model { get; init; }
    public int Priority { get; init; }
    public int MaxSteps { get; init; } = 20;
    public string? IdempotencyKey { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public DateTimeOffset? Deadline { get; init; }
    public JsonObject? ToolConfig { get; init; }

    /// <summary>Adds the task to an open (pending or running) batch, counted into its total.</summary>
    public long? BatchId { get; init; }
}
