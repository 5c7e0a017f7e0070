namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// The process's <c>service.instance.id</c> on the exported resource, registered (as an instance) with the worker's
/// services before <see cref="OpenTelemetryExport.AddAgentOpenTelemetry"/>: the id its claims and its Hangfire server
/// carry (<c>host:pid:random</c>), so a trace names the worker the dashboard lists.
/// </summary>
internal sealed record ServiceInstance(string Id);
