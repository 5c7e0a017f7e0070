namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Where tools come from besides the fixed registrations: an MCP server, whose list can change while the worker runs
/// (<c>tools/list_changed</c>). The catalog reads <see cref="Tools"/> again whenever <see cref="Changed"/> fires.
/// </summary>
internal interface IToolSource
{
    /// <summary>A short name for logs and the workers page (an MCP server's configured name).</summary>
    string Name { get; }

    /// <summary>The tools it offers now (the last list it gave while it was reachable).</summary>
    IReadOnlyList<RegisteredTool> Tools { get; }

    /// <summary>Raised after <see cref="Tools"/> changed.</summary>
    event Action? Changed;
}
