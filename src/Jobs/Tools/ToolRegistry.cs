using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The tools offered to the model. Unknown names and malformed arguments come back to the model as tool errors;
/// they never throw.
/// </summary>
internal sealed class ToolRegistry : IToolRegistry
{
    /// <summary>The size cap of one call's arguments when no options are given.</summary>
    public const int DefaultMaxArgumentChars = 64_000;

    private readonly FrozenDictionary<string, IAgentTool> _tools;
    private readonly int _maxArgumentChars;

    public ToolRegistry(IEnumerable<IAgentTool> tools, IOptions<ToolsOptions>? options = null)
    {
        _maxArgumentChars = options?.Value.MaxArgumentChars ?? DefaultMaxArgumentChars;
        _tools = tools.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        Tools = [.. _tools.Values.OrderBy(t => t.Name, StringComparer.Ordinal)];
    }

    public IReadOnlyList<IAgentTool> Tools { get; }

    public bool Knows(string name) => _tools.ContainsKey(name);

    public async Task<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var (name, argumentsJson) = (call.Name, call.Arguments);
        if (!_tools.TryGetValue(name, out var tool))
        {
            return ToolResult.Error($"Unknown tool \"{Cut(name)}\". Available tools: {string.Join(", ", _tools.Keys.Order(StringComparer.Ordinal))}.");
        }
        if (argumentsJson.Length > _maxArgumentChars)
        {
            return ToolResult.Error($"The arguments of {name} are {argumentsJson.Length} characters long; the limit is {_maxArgumentChars}.");
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
            string? problem;
            try
            {
                problem = ToolArguments.Validate(tool.Parameters, document.RootElement);
            }
            catch (InvalidOperationException)
            {
                // System.Text.Json refuses to decode an unpaired surrogate escape such as \udc00.
                problem = "a string holds text that is not valid Unicode (an unpaired surrogate escape such as \\udc00).";
            }
            if (problem is not null)
            {
                return ToolResult.Error($"Invalid arguments for {name}: {problem}");
            }
            return await tool.InvokeAsync(document.RootElement, cancellationToken);
        }
    }

    private static string Cut(string text) => text.Length <= 100 ? text : text[..100] + "...";
}
