using Dapper;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// Mutual exclusion between worker processes on a table of the App database (<c>LOCK TABLE ... IN ACCESS EXCLUSIVE
/// MODE</c> in a transaction held open on a connection of its own). A session advisory lock would do the same, but any
/// login that can connect to the database may take and hold any advisory key; a table lock needs privileges on the
/// table, which only the App login (its owner) has. Disposing ends the transaction, and the lock with it.
/// </summary>
public sealed class AppLock : IAsyncDisposable
{
    /// <summary>The migration runner's lock, created by the runner itself before any migration.</summary>
    public const string MigrationTable = "agent.migration_lock";

    /// <summary>The retention sweep's lock (migration 0012).</summary>
    public const string RetentionTable = "agent.retention_lock";

    private readonly NpgsqlTransaction _transaction;

    private AppLock(NpgsqlTransaction transaction) => _transaction = transaction;

    /// <summary>
    /// Takes the lock of <paramref name="table"/> on <paramref name="connection"/> (which it then holds until disposed),
    /// waiting up to <paramref name="wait"/>; returns null when <paramref name="wait"/> is zero and another session
    /// holds it. Past a longer wait, throws naming the sessions that hold it.
    /// </summary>
    public static async Task<AppLock?> AcquireAsync(NpgsqlConnection connection, string table, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            // The lock outlives many statements of other connections: an idle-in-transaction limit of the login must
            // not end it half way.
            await connection.ExecuteAsync(new CommandDefinition(
                "set local idle_in_transaction_session_timeout = 0; select set_config('lock_timeout', @timeout, true)",
                new { timeout = ((long)wait.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                $"lock table {table} in access exclusive mode{(wait == TimeSpan.Zero ? " nowait" : "")}",
                transaction: transaction, cancellationToken: cancellationToken));
            return new AppLock(transaction);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            await transaction.DisposeAsync();
            if (wait == TimeSpan.Zero)
            {
                return null;
            }
            throw new TimeoutException($"Waited {wait.TotalSeconds:0} s for the lock on {table}, held by {await HoldersAsync(connection, table, cancellationToken)}.", ex);
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <summary>Who holds a lock on the table now: process id, login, application name and since when.</summary>
    private static async Task<string> HoldersAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        var holders = (await connection.QueryAsync<string>(new CommandDefinition("""
            select format('pid %s (login %s, application %L, %s)', l.pid, coalesce(a.usename, '?'), coalesce(a.application_name, ''),
                          coalesce('in transaction since ' || a.xact_start::text, 'state not visible'))
              from pg_catalog.pg_locks l
              left join pg_catalog.pg_stat_activity a on a.pid = l.pid
             where l.locktype = 'relation' and l.relation = @table::regclass and l.granted
            """, new { table }, cancellationToken: cancellationToken))).ToList();
        return holders.Count == 0 ? "a session that has let it go since" : string.Join("; ", holders);
    }

    public async ValueTask DisposeAsync() => await _transaction.DisposeAsync();
}
