using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary>A function the model may call. Arguments arrive already checked against <see cref="Parameters"/>.</summary>
internal interface IAgentTool
{
    string Name { get; }

    string Description { get; }

    /// <summary>Strict JSON schema of the arguments object (every property required, no others).</summary>
    JsonObject Parameters { get; }

    Task<ToolResult> InvokeAsync(JsonElement arguments, CancellationToken cancellationToken);
}
