using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The tools a turn offers, made once and shared by every turn of every run: each implementation of the port builds its
/// own form of them once (the Responses <c>tools</c> array, M.E.AI declarations), not per turn.
/// </summary>
internal sealed class ToolSet
{
    private readonly Lazy<JsonArray> _responses;
    private readonly Lazy<AITool[]> _chat;

    public ToolSet(IEnumerable<ToolDefinition> definitions)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        Definitions = [.. definitions];
        _responses = new(() => new JsonArray(Definitions.Select(t => (JsonNode)new JsonObject
        {
            ["type"] = "function",
            ["name"] = t.Name,
            ["description"] = t.Description,
            ["parameters"] = JsonNode.Parse(t.ParametersSchema.GetRawText()),
            ["strict"] = t.Strict,
        }).ToArray()));
        _chat = new(() => [.. Definitions.Select(t => new ToolDeclaration(t))]);
    }

    public IReadOnlyList<ToolDefinition> Definitions { get; }

    /// <summary>The <c>tools</c> array of a <c>response.create</c>, built once (a request takes a copy: a node has one parent).</summary>
    internal JsonArray ResponsesTools => _responses.Value;

    /// <summary>The tools as M.E.AI declarations (for <see cref="ChatOptions.Tools"/>).</summary>
    internal IReadOnlyList<AITool> ChatTools => _chat.Value;
}
