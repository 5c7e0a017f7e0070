using System.Text.Json;

namespace AgentWorker.Jobs.Llm;

/// <summary>A tool offered to the model: its name, what it does, and the JSON schema of its arguments.</summary>
/// <param name="Name">The name the model calls it by.</param>
/// <param name="Description">What it does, for the model.</param>
/// <param name="ParametersSchema">The JSON schema of its arguments object.</param>
/// <param name="Strict">Whether the model is held to the schema (<c>strict: true</c>: the schema uses only the strict subset).</param>
internal sealed record ToolDefinition(string Name, string Description, JsonElement ParametersSchema, bool Strict);
