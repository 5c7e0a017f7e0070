using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// Exports the worker's traces and metrics over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, configured the
/// OpenTelemetry .NET way (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_SERVICE_NAME</c>,
/// <c>OTEL_METRIC_EXPORT_INTERVAL</c> ...). Without it nothing is set up and nothing leaves the process.
/// </summary>
public static class OpenTelemetryExport
{
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Adds the OpenTelemetry SDK with the worker's sources and meters, Npgsql's own instrumentation (its spans under
    /// the run's tool calls and its connection-pool metrics), and the OTLP exporter; <paramref name="tracing"/> adds
    /// a host's own instrumentation (ASP.NET Core for the dashboard). Returns whether export is on.
    /// </summary>
    public static bool AddAgentOpenTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName,
        Action<TracerProviderBuilder>? tracing = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.IsNullOrWhiteSpace(configuration[EndpointKey]))
        {
            return false;
        }
        var named = !string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]);
        // The process's own id, registered with the worker's services before this call (null: a fresh one).
        var instance = services.LastOrDefault(d => d.ServiceType == typeof(ServiceInstance))?.ImplementationInstance as ServiceInstance;
        services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!named)
                {
                    resource.AddService(serviceName, serviceInstanceId: instance?.Id);
                }
            })
            .WithTracing(traces =>
            {
                traces.AddSource(AgentTelemetry.SourceNames)
                    .AddNpgsql()
                    .SetSampler(new ParentBasedSampler(new NoRootDatabaseCalls()));
                tracing?.Invoke(traces);
            })
            .WithMetrics(metrics => metrics.AddMeter(AgentTelemetry.MeterNames).AddMeter("Npgsql"))
            .UseOtlpExporter();
        return true;
    }

    /// <summary>
    /// Traces start at a task's run, an enqueue or a request: a database call outside them (the claim loop's polls,
    /// heartbeats, Hangfire's own queries, many a second) is not a trace of its own. Inside them it is kept.
    /// </summary>
    private sealed class NoRootDatabaseCalls : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            new(samplingParameters.Kind == System.Diagnostics.ActivityKind.Client ? SamplingDecision.Drop : SamplingDecision.RecordAndSample);
    }
}
