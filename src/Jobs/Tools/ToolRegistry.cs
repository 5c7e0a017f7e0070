using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The tools offered to the model. Unknown names and malformed arguments come back to the model as tool errors;
/// they never throw.
/// </summary>
internal sealed class ToolRegistry
{
    private readonly FrozenDictionary<string, IAgentTool> _tools;

    public ToolRegistry(IEnumerable<IAgentTool> tools)
    {
        _tools = tools.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        Definitions = new JsonArray(_tools.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => (JsonNode)new JsonObject
        {
            ["type"] = "function",
            ["name"] = t.Name,
            ["description"] = t.Description,
            ["parameters"] = t.Parameters.DeepClone(),
            ["strict"] = true,
        }).ToArray());
    }

    /// <summary>The <c>tools</c> array of a <c>response.create</c>.</summary>
    public JsonArray Definitions { get; }

    public async Task<ToolResult> InvokeAsync(string name, string argumentsJson, CancellationToken cancellationToken)
    {
        if (!_tools.TryGetValue(name, out var tool))
        {
            return ToolResult.Error($"Unknown tool \"{name}\". Available tools: {string.Join(", ", _tools.Keys.Order(StringComparer.Ordinal))}.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(string.IsNullOrWhiteSpace(argumentsJson) ? "{}" : argumentsJson);
        }
        catch (JsonException ex)
        {
            return ToolResult.Error($"The arguments of {name} are not valid JSON: {ex.Message}");
        }
        using (document)
        {
            if (ToolArguments.Validate(tool.Parameters, document.RootElement) is { } problem)
            {
                return ToolResult.Error($"Invalid arguments for {name}: {problem}");
            }
            return await tool.InvokeAsync(document.RootElement, cancellationToken);
        }
    }
}
