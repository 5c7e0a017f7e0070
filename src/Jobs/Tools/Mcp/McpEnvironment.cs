namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// The whole environment of a stdio server's process: what it needs to start, taken from the worker's, and what is
/// configured for it (<c>Tools__Mcp__{server}__Environment__KEY</c>), nothing else. The process inherits nothing
/// (the SDK's <c>InheritEnvironmentVariables = false</c>), so the worker's connection strings and API keys
/// (<c>ConnectionStrings__*</c>, <c>Llm__ApiKey</c>, <c>OPENAI_API_KEY</c> ...) never reach a server.
/// </summary>
internal static class McpEnvironment
{
    /// <summary>
    /// Passed on from the worker when set. The first six are the SDK's own Unix list (<c>GetDefaultEnvironmentVariables</c>,
    /// aligned with the TypeScript and Python SDKs); locale and time zone keep a server's text and clocks as the worker's;
    /// <c>TMPDIR</c> its scratch files; <c>DOTNET_ROOT</c> lets a .NET server's apphost find its runtime. On Windows the
    /// SDK's Windows list is used instead of the first six.
    /// </summary>
    public static readonly IReadOnlyList<string> Passed =
        ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_ALL", "TZ", "TMPDIR", "DOTNET_ROOT"];

    public static Dictionary<string, string?> For(McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var environment = ModelContextProtocol.Client.StdioClientTransportOptions.GetDefaultEnvironmentVariables();
        if (!OperatingSystem.IsWindows())
        {
            environment.Clear();
            foreach (var name in Passed)
            {
                // A value starting "()" is a shell function definition, which the SDK's list leaves out too.
                if (System.Environment.GetEnvironmentVariable(name) is { } value && !value.StartsWith("()", StringComparison.Ordinal))
                {
                    environment[name] = value;
                }
            }
        }
        foreach (var (name, value) in options.Environment)
        {
            environment[name] = value;
        }
        return environment;
    }
}
