using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// A <see cref="ToolDefinition"/> as an M.E.AI function declaration: offered to an <see cref="IChatClient"/>, never
/// invoked by it (the agent loop runs the calls). The strict flag goes in <see cref="AITool.AdditionalProperties"/> under
/// <c>strict</c>, where M.E.AI's OpenAI clients read it.
/// </summary>
internal sealed class ToolDeclaration(ToolDefinition definition) : AIFunctionDeclaration
{
    private readonly IReadOnlyDictionary<string, object?> _properties =
        new Dictionary<string, object?>(StringComparer.Ordinal) { ["strict"] = definition.Strict };

    public override string Name => definition.Name;

    public override string Description => definition.Description;

    public override JsonElement JsonSchema => definition.ParametersSchema;

    public override IReadOnlyDictionary<string, object?> AdditionalProperties => _properties;
}
