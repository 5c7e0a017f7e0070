namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>The MCP servers of this worker, by name, in the order they were added (configuration first, then the builder).</summary>
internal sealed class McpServerNames
{
    private readonly List<string> _names = [];

    public IReadOnlyList<string> All => _names;

    /// <summary>Adds <paramref name="name"/>; false when it is there already (configured and added on the builder: one server).</summary>
    public bool Add(string name)
    {
        if (Contains(name))
        {
            return false;
        }
        _names.Add(name);
        return true;
    }

    public bool Contains(string name) => _names.Contains(name, StringComparer.OrdinalIgnoreCase);
}
