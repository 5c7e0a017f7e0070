using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// The <c>mcp</c> readiness check's verdict: healthy when every server is connected, else degraded naming the servers
/// that are not and why. Degraded, not unhealthy: the worker still runs every task, and a task that calls a server
/// that is down gets a tool error, so a third party's server never takes the worker out of rotation.
/// </summary>
internal static class McpHealth
{
    public static HealthCheckResult Of(IReadOnlyList<McpServerState> servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var notConnected = servers.Where(s => s.Status != McpServerState.Connected).ToList();
        if (notConnected.Count == 0)
        {
            return HealthCheckResult.Healthy(string.Join(", ", servers.Select(s => $"{s.Name} connected ({s.Tools} tools)")));
        }
        return HealthCheckResult.Degraded(string.Join("; ", notConnected.Select(s =>
            s.Status == McpServerState.Down ? $"{s.Name} is down: {s.Error}" : $"{s.Name} is {s.Status}" + (s.Error is null ? "" : $" (last: {s.Error})"))));
    }
}
