using System.Net.Sockets;
using System.Text.Json;
using AgentWorker.Jobs.Hosting;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using AgentWorker.Jobs.Tools.Mcp;
using Dapper;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The agent worker's readiness as ASP.NET Core health checks, tagged <see cref="ReadyTag"/>: <c>postgres</c> (the App
/// database answers), <c>migrations</c> (every migration this build knows is applied) and, in a worker,
/// <c>model_endpoint</c> (the model endpoint accepts connections) and <c>reader_login</c> (the tools' login is still
/// read-only), and with MCP servers <c>mcp</c> (each server connected; degraded naming those that are not). Each check has a few seconds; a check that throws is unhealthy, with the reason.
/// </summary>
public static class AgentHealthChecks
{
    /// <summary>The tag of every check added here, for a readiness endpoint's predicate.</summary>
    public const string ReadyTag = "ready";

    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Adds the checks, before or after <c>AddAgentWorker</c> or <c>AddAgentTasks</c>; the worker's two checks are
    /// there only in a process that runs tasks.
    /// </summary>
    public static IHealthChecksBuilder AddAgentWorkerChecks(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddCheck<PostgresCheck>("postgres", tags: [ReadyTag], timeout: s_checkTimeout);
        builder.AddCheck<MigrationsCheck>("migrations", tags: [ReadyTag], timeout: s_checkTimeout);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HealthCheckServiceOptions>, WorkerChecks>());
        return builder;
    }

    /// <summary>The worker's checks, added when the options are built: by then it is known whether this process runs tasks.</summary>
    private sealed class WorkerChecks(IServiceProvider services) : IConfigureOptions<HealthCheckServiceOptions>
    {
        public void Configure(HealthCheckServiceOptions options)
        {
            if (services.GetService<AgentWorkerMarker>() is null)
            {
                return;
            }
            options.Registrations.Add(new HealthCheckRegistration("model_endpoint",
                sp => ActivatorUtilities.CreateInstance<ModelEndpointCheck>(sp), null, [ReadyTag], s_checkTimeout));
            options.Registrations.Add(new HealthCheckRegistration("reader_login",
                sp => ActivatorUtilities.CreateInstance<ReaderLoginCheck>(sp), null, [ReadyTag], s_checkTimeout));
            if (services.GetService<McpServerNames>() is { All.Count: > 0 })
            {
                options.Registrations.Add(new HealthCheckRegistration("mcp",
                    sp => new McpCheck(sp.GetRequiredService<McpServers>()), null, [ReadyTag], s_checkTimeout));
            }
        }
    }

    /// <summary>
    /// A report as the worker's <c>/readyz</c> answers it: <c>{"status":"ready"|"not_ready","checks":[{"name","ok","detail"}]}</c>,
    /// the checks in the order they were added.
    /// </summary>
    public static string ToJson(HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status == HealthStatus.Unhealthy ? "not_ready" : "ready");
            json.WriteStartArray("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                json.WriteBoolean("ok", entry.Status != HealthStatus.Unhealthy);
                json.WriteString("detail", Detail(entry));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Detail(HealthReportEntry entry) => entry switch
    {
        { Description: { Length: > 0 } description } => description,
        { Exception: OperationCanceledException } => $"no answer within {s_checkTimeout.TotalSeconds:0} s",
        { Exception: { } exception } => exception.Message,
        _ => entry.Status.ToString(),
    };

    /// <summary>Runs one check, turning what a broken dependency throws into an unhealthy result with its reason.</summary>
    private static async Task<HealthCheckResult> GuardAsync(Func<Task<HealthCheckResult>> check)
    {
        try
        {
            return await check();
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or InvalidOperationException)
        {
            // A timeout is the health check service's to report (its token is cancelled): ToJson says "no answer within".
            return HealthCheckResult.Unhealthy(ex.Message);
        }
    }

    private sealed class PostgresCheck([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            GuardAsync(async () =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                var version = await connection.ExecuteScalarAsync<string>(new CommandDefinition("show server_version", cancellationToken: cancellationToken));
                return HealthCheckResult.Healthy($"PostgreSQL {version} answers");
            });
    }

    private sealed class MigrationsCheck([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            GuardAsync(async () =>
            {
                var missing = await SchemaOnStart.MissingAsync(dataSource, cancellationToken);
                return missing.Count == 0
                    ? HealthCheckResult.Healthy($"all {AgentWorker.Jobs.Migrations.Migration.Embedded.Count} applied")
                    : HealthCheckResult.Unhealthy($"not applied: {string.Join(", ", missing)}");
            });
    }

    /// <summary>The model endpoint (<c>Llm:BaseUrl</c>) accepts a TCP connection.</summary>
    private sealed class ModelEndpointCheck(IOptions<LlmOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            GuardAsync(async () =>
            {
                var url = options.Value.BaseUrl;
                using var client = new TcpClient();
                await client.ConnectAsync(url.Host, url.Port, cancellationToken);
                return HealthCheckResult.Healthy($"{url.Host}:{url.Port} accepts connections");
            });
    }

    /// <summary>Every MCP server is connected (degraded, naming those that are not: their callers get tool errors).</summary>
    private sealed class McpCheck(McpServers servers) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(McpHealth.Of(servers.States()));
    }

    /// <summary>The tools' login is still read-only (rechecked at most once a minute: someone may grant it more).</summary>
    private sealed class ReaderLoginCheck(ReaderLoginState state) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            GuardAsync(() => state.CheckAsync(cancellationToken));
    }
}

/// <summary>Marks a container that runs tasks (<c>AddAgentWorker</c>), for the checks only a worker has.</summary>
internal sealed class AgentWorkerMarker;

/// <summary>The last verdict on the tools' login, kept a minute (health checks are transient, this is not).</summary>
internal sealed class ReaderLoginState(TargetDatabase target, TimeProvider time)
{
    private HealthCheckResult? _last;
    private DateTimeOffset _checkedAt;

    public async Task<HealthCheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        if (_last is { } last && time.GetUtcNow() - _checkedAt < TimeSpan.FromMinutes(1))
        {
            return last;
        }
        var problems = await AgentWorker.Jobs.Tools.ReaderLoginCheck.FindProblemsAsync(target, cancellationToken);
        _last = problems.Count == 0
            ? HealthCheckResult.Healthy($"{target.UserName} is read-only")
            : HealthCheckResult.Unhealthy($"{target.UserName} is not read-only: it {string.Join("; it ", problems)}");
        _checkedAt = time.GetUtcNow();
        return _last.Value;
    }
}
