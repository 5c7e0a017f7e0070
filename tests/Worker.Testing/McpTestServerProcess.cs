using AgentWorker.Jobs.Tools.Mcp;

namespace AgentWorker.Testing;

/// <summary>The MCP test server (<c>tests/McpTestServer</c>) as a stdio server's options: <c>dotnet McpTestServer.dll</c>.</summary>
public static class McpTestServerProcess
{
    /// <summary>The built server: beside the caller's own output when it references the project, else in the project's bin.</summary>
    public static string Dll
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "McpTestServer.dll");
            if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
            {
                return beside;
            }
            foreach (var configuration in new[] { "Debug", "Release" })
            {
                var built = Path.Combine(Repository.Root, "tests", "McpTestServer", "bin", configuration, "net10.0", "McpTestServer.dll");
                if (File.Exists(built))
                {
                    return built;
                }
            }
            throw new FileNotFoundException("McpTestServer.dll is not built: dotnet build tests/McpTestServer");
        }
    }

    /// <summary>Options that start the test server over stdio.</summary>
    public static McpServerOptions Options()
    {
        var options = new McpServerOptions { Command = "dotnet" };
        options.Arguments.Add(Dll);
        return options;
    }
}
