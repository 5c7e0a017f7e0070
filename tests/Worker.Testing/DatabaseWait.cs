using System.Diagnostics;
using Dapper;
using Npgsql;

namespace AgentWorker.Testing;

/// <summary>Waiting on the database, the one way the tests and the bench do it.</summary>
public static class DatabaseWait
{
    /// <summary>
    /// Polls <paramref name="sql"/> (a boolean query) on one connection until it is true; throws a
    /// <see cref="TimeoutException"/> naming the query after <paramref name="timeout"/>.
    /// </summary>
    public static async Task UntilAsync(
        string connectionString, string sql, object? parameters, TimeSpan timeout, CancellationToken cancellationToken,
        TimeSpan? interval = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var started = Stopwatch.StartNew();
        while (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)))
        {
            if (started.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for: {sql}");
            }
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }
}
