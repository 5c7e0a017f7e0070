using Npgsql;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Runs SQL on the target inside a transaction that is read-only before any statement of the caller runs,
/// and is always rolled back. The model's statement is sent alone over the extended protocol
/// (one <see cref="NpgsqlBatchCommand"/>), so the server refuses any second statement hidden in it.
/// </summary>
public sealed class ReadOnlySql(TargetDatabase target)
{
    /// <summary>Opens a read-only transaction, runs <paramref name="body"/>, and rolls back whatever happens.</summary>
    public async Task<T> InReadOnlyTransactionAsync<T>(
        Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // READ ONLY, then a snapshot: after the first snapshot, SET TRANSACTION READ WRITE is refused.
        await using (var setup = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands = { new NpgsqlBatchCommand("SET TRANSACTION READ ONLY"), new NpgsqlBatchCommand("SELECT 1") },
        })
        {
            await setup.ExecuteNonQueryAsync(cancellationToken);
        }
        // Never committed: disposing the transaction rolls it back, whatever the body did or threw.
        return await body(connection, transaction);
    }

    /// <summary>Runs one statement written by the model and returns at most <c>MaxRows</c> rows, compactly.</summary>
    public Task<ToolResult> QueryAsync(string sql, CancellationToken cancellationToken) =>
        InReadOnlyTransactionAsync(async (connection, transaction) =>
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(sql));
            try
            {
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
                var result = await ResultFormatter.ReadAsync(reader, target.Options, cancellationToken);
                if (result.Truncated)
                {
                    // Stop the server producing rows nobody reads instead of draining them.
                    batch.Cancel();
                }
                return result;
            }
            catch (PostgresException ex) when (ex.SqlState != PostgresErrorCodes.QueryCanceled || !cancellationToken.IsCancellationRequested)
            {
                return ToolResult.Error(Describe(ex));
            }
        }, cancellationToken);

    /// <summary>PostgreSQL's own message and position: enough for the model to correct itself, nothing more.</summary>
    internal static string Describe(PostgresException ex)
    {
        var message = ex.SqlState == PostgresErrorCodes.QueryCanceled
            ? "the query ran past its time limit and was cancelled"
            : ex.MessageText;
        var position = ex.Position > 0 ? $" (at character {ex.Position})" : "";
        return $"SQL error {ex.SqlState}: {message}{position}";
    }
}
