using System.Text.Json;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Protocol;

namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// One tool of an MCP server as an <see cref="AIFunction"/>: named <c>{server}__{tool}</c>, with the server's
/// description and input schema; a call goes to whichever session of the server is live then (not to the one that
/// listed the tool: the server may have been restarted since), so it outlives reconnections.
/// </summary>
internal sealed class McpToolFunction(McpServerConnection server, string name, Tool tool) : AIFunction
{
    public override string Name { get; } = name;

    public override string Description { get; } = tool.Description ?? tool.Title ?? "";

    public override JsonElement JsonSchema { get; } = tool.InputSchema;

    /// <summary>The tool's name on its server.</summary>
    public string ServerToolName { get; } = tool.Name;

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var values = arguments.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return await server.CallAsync(ServerToolName, values, cancellationToken);
    }
}
