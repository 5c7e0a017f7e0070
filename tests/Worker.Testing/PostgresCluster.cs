using System.Diagnostics;
using System.Globalization;
using AgentWorker.Jobs.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AgentWorker.Testing;

/// <summary>
/// A PostgreSQL cluster of its own (scripts/pg-up in a temporary folder), for the tests and the bench that break the
/// server: nobody else's database goes down with it. Its database <c>agent</c> is migrated, with the demo shop data
/// and a reader login for the tools. The faults are the ones an operator meets: every backend terminated, a fast
/// restart, a crash (immediate stop, crash recovery at the next start).
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string Database = "agent";
    public const string ReaderLogin = "agent_reader";
    public const string ReaderPassword = "cluster-reader-password";
    private readonly string _dir;

    private PostgresCluster(string dir, int port)
    {
        _dir = dir;
        AdminConnectionString = $"Host=127.0.0.1;Port={port.ToString(CultureInfo.InvariantCulture)};Database={Database};Username=postgres";
        ReaderConnectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Username = ReaderLogin, Password = ReaderPassword }
            .ConnectionString;
    }

    /// <summary>The superuser on the <c>agent</c> database (the workers of these tests use it as their App login).</summary>
    public string AdminConnectionString { get; }

    /// <summary>The tools' read-only login on the <c>agent</c> database.</summary>
    public string ReaderConnectionString { get; }

    /// <summary>Starts the cluster on a free port and prepares its <c>agent</c> database.</summary>
    public static async Task<PostgresCluster> StartAsync(CancellationToken cancellationToken)
    {
        var dir = Path.Combine(Path.GetTempPath(), "agent-pg-" + Guid.NewGuid().ToString("N")[..8]);
        await ScriptAsync(dir, "pg-up", [], cancellationToken);
        var port = int.Parse((await File.ReadAllTextAsync(Path.Combine(dir, "port"), cancellationToken)).Trim(), CultureInfo.InvariantCulture);
        var cluster = new PostgresCluster(dir, port);
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(cluster.AdminConnectionString);
            await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance, [AgentWorker.Jobs.Hangfire.HangfireStorage.Schema]).MigrateAsync(Migration.Embedded, cancellationToken);
            await using var seed = dataSource.CreateCommand(await File.ReadAllTextAsync(Repository.File("scripts/demo-data.sql"), cancellationToken));
            await seed.ExecuteNonQueryAsync(cancellationToken);
            await using var reader = dataSource.CreateCommand(Jobs.Tools.ReaderRole.CreateSql(ReaderLogin, ["shop"], Database, ReaderPassword));
            await reader.ExecuteNonQueryAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Terminates every backend on the <c>agent</c> database at once (what an operator's <c>pg_terminate_backend</c>
    /// sweep or a failover proxy does); returns how many there were.
    /// </summary>
    public async Task<int> TerminateBackendsAsync(CancellationToken cancellationToken)
    {
        // From the postgres database, unpooled: this session is not one of those it terminates.
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "select count(*) filter (where pg_terminate_backend(pid))::int from pg_stat_activity where datname = @db and pid <> pg_backend_pid()",
            connection);
        command.Parameters.AddWithValue("db", Database);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A fast restart (<c>pg_ctl restart -m fast</c>): sessions end, the server shuts down cleanly and starts.</summary>
    public Task RestartAsync(CancellationToken cancellationToken) => ScriptAsync(_dir, "pg-restart", [], cancellationToken);

    /// <summary>
    /// A crash: <c>pg_ctl stop -m immediate</c> (no shutdown checkpoint), <paramref name="down"/> without a server,
    /// then a start that runs crash recovery. Returns when the server accepts connections again.
    /// </summary>
    public Task CrashAsync(TimeSpan down, CancellationToken cancellationToken) =>
        ScriptAsync(_dir, "pg-restart", ["--immediate", down.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)], cancellationToken);

    private static async Task ScriptAsync(string dir, string script, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Repository.File("scripts/" + script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["PG_DIR"] = dir;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/{script} failed ({process.ExitCode}): {await stdout}{await stderr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            await ScriptAsync(_dir, "pg-down", [], CancellationToken.None);
            Directory.Delete(_dir, recursive: true);
        }
    }
}
