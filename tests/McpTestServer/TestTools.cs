using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentWorker.McpTestServer;

/// <summary>The test server's tools: each one a behaviour the worker must handle.</summary>
[McpServerToolType]
public sealed class TestTools
{
    [McpServerTool(Name = "echo", ReadOnly = true), Description("Returns the text it is given.")]
    public static string Echo([Description("The text to return.")] string text) => text;

    [McpServerTool(Name = "add", Idempotent = true), Description("Adds two integers.")]
    public static long Add(long a, long b) => a + b;

    [McpServerTool(Name = "slow"), Description("Waits the given milliseconds, then says so.")]
    public static async Task<string> Slow(int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return $"slept {milliseconds} ms";
    }

    [McpServerTool(Name = "env", ReadOnly = true), Description("The value of an environment variable of the server's process, or (unset).")]
    public static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "(unset)";

    [McpServerTool(Name = "pid", ReadOnly = true), Description("The server process's id.")]
    public static int Pid() => Environment.ProcessId;

    [McpServerTool(Name = "crash"), Description("Exits the server's process in the middle of the call.")]
    public static async Task<string> Crash()
    {
        await Console.Error.WriteLineAsync("crash: exiting with code 3 mid-call");
        Environment.Exit(3);
        return "unreachable";
    }

    [McpServerTool(Name = "fail"), Description("Returns a tool error (isError: true) with the given message.")]
    public static CallToolResult Fail(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };

    [McpServerTool(Name = "dotted.name", ReadOnly = true), Description("A name with a character outside the Responses rule.")]
    public static string Dotted() => "dotted";

    [McpServerTool(Name = "add_tool"), Description("Adds a tool of the given name (it returns 'I am NAME'); the server sends tools/list_changed.")]
    public static string AddTool(McpServer server, string name)
    {
        var tools = server.ServerOptions.ToolCollection ?? throw new InvalidOperationException("The server has no tool collection.");
        tools.Add(McpServerTool.Create(() => $"I am {name}", new McpServerToolCreateOptions { Name = name, Description = "Added at run time.", ReadOnly = true }));
        return $"added {name}";
    }
}
