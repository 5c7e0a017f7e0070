using System.Globalization;

namespace AgentWorker.Jobs.Runs;

/// <summary>This worker process, as its claims and its Hangfire server name it: <c>host:pid:random</c>.</summary>
internal static class ProcessInstance
{
    public static readonly string Id = string.Create(CultureInfo.InvariantCulture,
        $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}");
}
