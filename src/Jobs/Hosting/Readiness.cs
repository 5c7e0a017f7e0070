using System.Net.Sockets;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Hosting;

/// <summary>One readiness check's outcome: its name, whether it passed, and what was found.</summary>
public sealed record ReadinessCheck(string Name, bool Ok, string Detail);

/// <summary>A check <see cref="Readiness"/> runs besides its own (PostgreSQL reachable, migrations current).</summary>
internal interface IReadinessCheck
{
    Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Whether this process can do its work now: PostgreSQL answers, every migration this build knows is applied, and (in
/// a worker) the model endpoint accepts connections and the tools' login is still read-only. Behind <c>/readyz</c>.
/// Each check has a few seconds; a check that throws counts as failed, with the reason.
/// </summary>
internal sealed class Readiness([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource, IEnumerable<IReadinessCheck> checks)
{
    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(3);

    public async Task<IReadOnlyList<ReadinessCheck>> CheckAsync(CancellationToken cancellationToken)
    {
        var results = new List<ReadinessCheck>
        {
            await GuardAsync("postgres", PostgresAsync, cancellationToken),
            await GuardAsync("migrations", MigrationsAsync, cancellationToken),
        };
        foreach (var check in checks)
        {
            results.Add(await GuardAsync(check.GetType().Name, check.CheckAsync, cancellationToken));
        }
        return results;
    }

    private async Task<ReadinessCheck> PostgresAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var version = await connection.ExecuteScalarAsync<string>(new CommandDefinition("show server_version", cancellationToken: cancellationToken));
        return new ReadinessCheck("postgres", true, $"PostgreSQL {version} answers");
    }

    private async Task<ReadinessCheck> MigrationsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var applied = (await connection.QueryAsync<string>(new CommandDefinition(
            "select name from agent.schema_migrations", cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
        var missing = Migration.Embedded.Select(m => m.Name).Where(name => !applied.Contains(name)).ToList();
        return missing.Count == 0
            ? new ReadinessCheck("migrations", true, $"all {Migration.Embedded.Count} applied")
            : new ReadinessCheck("migrations", false, $"not applied: {string.Join(", ", missing)}");
    }

    private static async Task<ReadinessCheck> GuardAsync(string name, Func<CancellationToken, Task<ReadinessCheck>> check, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_checkTimeout);
        try
        {
            return await check(timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or InvalidOperationException
                                       or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException ? $"no answer within {s_checkTimeout.TotalSeconds:0} s" : ex.Message;
            return new ReadinessCheck(ToName(name), false, reason);
        }
    }

    private static string ToName(string typeName) => typeName switch
    {
        nameof(ModelEndpointCheck) => "model_endpoint",
        nameof(ReaderLoginReadiness) => "reader_login",
        _ => typeName,
    };
}

/// <summary>The model endpoint (<c>Llm:BaseUrl</c>) accepts a TCP connection.</summary>
internal sealed class ModelEndpointCheck(IOptions<LlmOptions> options) : IReadinessCheck
{
    public async Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken)
    {
        var url = options.Value.BaseUrl;
        using var client = new TcpClient();
        await client.ConnectAsync(url.Host, url.Port, cancellationToken);
        return new ReadinessCheck("model_endpoint", true, $"{url.Host}:{url.Port} accepts connections");
    }
}

/// <summary>The tools' login is still read-only (rechecked at most once a minute: someone may grant it more).</summary>
internal sealed class ReaderLoginReadiness(TargetDatabase target, TimeProvider time) : IReadinessCheck
{
    private ReadinessCheck? _last;
    private DateTimeOffset _checkedAt;

    public async Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken)
    {
        if (_last is { } last && time.GetUtcNow() - _checkedAt < TimeSpan.FromMinutes(1))
        {
            return last;
        }
        var problems = await ReaderLoginCheck.FindProblemsAsync(target, cancellationToken);
        _last = problems.Count == 0
            ? new ReadinessCheck("reader_login", true, $"{target.UserName} is read-only")
            : new ReadinessCheck("reader_login", false, $"{target.UserName} is not read-only: it {string.Join("; it ", problems)}");
        _checkedAt = time.GetUtcNow();
        return _last;
    }
}
