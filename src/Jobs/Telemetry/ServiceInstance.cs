using OpenTelemetry.Resources;

namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// The process's <c>service.instance.id</c> on the exported resource: set at registration to the id its claims and its
/// Hangfire server carry (<c>host:pid:random</c>), so a trace names the worker the dashboard lists.
/// </summary>
internal sealed class ServiceInstance
{
    public string? Id { get; set; }

    /// <summary>The resource attribute; a fresh id when none was registered.</summary>
    internal sealed class Detector(string? id) : IResourceDetector
    {
        public Resource Detect() => new([new KeyValuePair<string, object>("service.instance.id", id ?? Guid.NewGuid().ToString())]);
    }
}
