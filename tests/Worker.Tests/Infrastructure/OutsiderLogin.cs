using System.Diagnostics;
using Npgsql;

namespace AgentWorker.Tests.Infrastructure;

/// <summary>
/// A login of the App database that is neither its owner nor the reader (what any application sharing the database
/// has: CONNECT, through PUBLIC), driving psql as a separate process: the attacker of the SQL-surface tests.
/// </summary>
public sealed class OutsiderLogin : IAsyncDisposable
{
    private const string Password = "outsider";
    private readonly TestDatabase _db;
    private readonly List<Process> _held = [];

    private OutsiderLogin(TestDatabase db, string role)
    {
        _db = db;
        Role = role;
        ConnectionString = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Username = role, Password = Password, Pooling = false }.ConnectionString;
    }

    public string Role { get; }

    /// <summary>A boolean query: whether this login holds an advisory lock now.</summary>
    public string HoldsAdvisoryLock =>
        $"select exists (select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid where a.usename = '{Role}' and l.locktype = 'advisory' and l.granted)";

    /// <summary>The outsider's own connection string (unpooled), for what psql cannot do (wait for notifications).</summary>
    public string ConnectionString { get; }

    public static async Task<OutsiderLogin> CreateAsync(TestDatabase db)
    {
        var role = "outsider_" + Guid.NewGuid().ToString("N")[..8];
        await PostgresServer.ExecuteAsync(db.ConnectionString, $"create role {role} login password '{Password}'");
        return new OutsiderLogin(db, role);
    }

    /// <summary>Runs <paramref name="sql"/> in psql as the outsider; returns what it printed, or throws with its errors.</summary>
    public async Task<string> PsqlAsync(string sql)
    {
        using var psql = Start(sql);
        var output = psql.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = psql.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await psql.WaitForExitAsync(TestContext.Current.CancellationToken);
        if (psql.ExitCode != 0)
        {
            throw new InvalidOperationException($"psql as {Role} failed ({psql.ExitCode}): {await errors}");
        }
        return (await output).Trim();
    }

    /// <summary>
    /// Runs <paramref name="sql"/> in a psql session that stays open (holding what it took) until this login is
    /// disposed; returns once <paramref name="heldWhen"/> (a boolean query, run as the admin) is true.
    /// </summary>
    public async Task HoldAsync(string sql, string heldWhen)
    {
        var psql = Start(sql + "; select pg_sleep(600)");
        _held.Add(psql);
        var waited = Stopwatch.StartNew();
        while (!await _db.ScalarAsync<bool>(heldWhen))
        {
            if (psql.HasExited)
            {
                throw new InvalidOperationException($"psql as {Role} ended ({psql.ExitCode}): {await psql.StandardError.ReadToEndAsync()}");
            }
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"timed out after 20 s waiting for: {heldWhen}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private Process Start(string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var start = new ProcessStartInfo("psql")
        {
            ArgumentList = { "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", builder.Host!, "-p", builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-U", Role, "-d", builder.Database!, "-c", sql },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PGPASSWORD"] = Password, ["PGAPPNAME"] = "outsider" },
        };
        return Process.Start(start) ?? throw new InvalidOperationException("psql did not start");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _held)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
        await PostgresServer.ExecuteAsync(_db.ConnectionString,
            $"select pg_terminate_backend(pid) from pg_stat_activity where usename = '{Role}'; drop owned by {Role}; drop role {Role};");
    }
}
