namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>One MCP server as the health check and the workers page see it.</summary>
/// <param name="Name">The configured name.</param>
/// <param name="Status"><see cref="Connecting"/>, <see cref="Connected"/> or <see cref="Down"/>.</param>
/// <param name="Error">Why it is down (or what ended its last session), else null.</param>
/// <param name="Tools">How many tools it offers (its last known list while it is down).</param>
/// <param name="Since">When it entered this status.</param>
/// <param name="Connections">How many sessions it has had (each restart or reconnection is one more).</param>
internal sealed record McpServerState(string Name, string Status, string? Error, int Tools, DateTimeOffset Since, int Connections)
{
    public const string Connecting = "connecting";
    public const string Connected = "connected";
    public const string Down = "down";
}
