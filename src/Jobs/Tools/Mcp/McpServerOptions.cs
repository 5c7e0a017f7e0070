namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// One MCP server whose tools the worker offers as <c>{server}__{tool}</c>: a process the worker starts and talks to
/// over stdio (<see cref="Command"/>), or a streamable HTTP endpoint (<see cref="Url"/>). Section
/// <c>Tools:Mcp:{server}</c> (environment <c>Tools__Mcp__{server}__Command</c> ...), or <c>AddMcpServer</c> on the builder.
/// </summary>
public sealed class McpServerOptions
{
    /// <summary>The program of a stdio server (<c>npx</c>, <c>dotnet</c>, a path). Either this or <see cref="Url"/>.</summary>
    public string? Command { get; set; }

    /// <summary>The program's arguments (<c>Tools__Mcp__{server}__Arguments__0</c>, <c>__1</c> ...).</summary>
    public IList<string> Arguments { get; } = [];

    /// <summary>
    /// The stdio server's environment, beside the few variables a program needs to start (<c>PATH</c>, <c>HOME</c> ...,
    /// see the README): the worker's own variables (connection strings, API keys) never reach it.
    /// </summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The stdio server's working directory. Default: the worker's.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>The endpoint of a streamable HTTP server (<c>https://host/mcp</c>). Either this or <see cref="Command"/>.</summary>
    public string? Url { get; set; }

    /// <summary>Headers sent with every HTTP request (an <c>Authorization</c> or API key header).</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// What every tool of the server does to the world, overriding the tools' own hints. Default: each tool's
    /// annotations (<c>readOnlyHint</c>: read-only, <c>idempotentHint</c>: idempotent), else side effects.
    /// </summary>
    public ToolSideEffects? SideEffects { get; set; }

    /// <summary>Longest one call may take. Default: <c>Tools:CallTimeout</c>.</summary>
    public TimeSpan? CallTimeout { get; set; }

    /// <summary>
    /// Longest the worker's start waits for the server's first connection and tool list; a slower server is connected
    /// in the background (its tools appear when it answers). Default 10 s.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait before a reconnection after a failure; waits double from 1 s up to it. Default 30 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);
}
