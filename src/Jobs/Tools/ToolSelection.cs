using System.Collections.Frozen;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The tools one task may use, resolved from its tool list against the catalog at one moment: what its turns offer and
/// all that its calls may reach (a model calling a tool outside it gets "unknown tool").
/// </summary>
internal sealed class ToolSelection(long version, IReadOnlyList<RegisteredTool> tools, IReadOnlyList<string> missing)
{
    private readonly FrozenDictionary<string, RegisteredTool> _byName = tools.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The catalog version it was made from.</summary>
    public long Version { get; } = version;

    /// <summary>The tools, by name (ordinal order).</summary>
    public IReadOnlyList<RegisteredTool> Tools { get; } = tools;

    /// <summary>Entries of the tool list that matched no tool (a typo, or an MCP server not listed yet).</summary>
    public IReadOnlyList<string> Missing { get; } = missing;

    public IReadOnlyList<string> Names { get; } = [.. tools.Select(t => t.Name)];

    public bool TryGet(string name, out RegisteredTool tool) => _byName.TryGetValue(name, out tool!);
}
