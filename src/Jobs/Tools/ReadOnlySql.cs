using System.Data;
using Npgsql;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Runs SQL on the target inside a transaction that is read-only before any statement of the caller runs, and is
/// always rolled back, on a physical connection of its own that is closed afterwards (<see cref="TargetDatabase"/>):
/// nothing a statement left in the backend (a session advisory lock, a prepared statement, a cache of compiled
/// regular expressions that <c>DISCARD ALL</c> keeps) serves the next call.
/// The model's statement is sent alone over the extended protocol (one <see cref="NpgsqlBatchCommand"/>), so the
/// server refuses any second statement hidden in it.
/// </summary>
internal sealed partial class ReadOnlySql(TargetDatabase target)
{
    /// <summary>
    /// Opens a read-only transaction on a new connection, runs <paramref name="body"/>, rolls back and closes. When the
    /// server refuses the reader another connection (its <c>CONNECTION LIMIT</c>: earlier calls may still run there,
    /// past a timeout PostgreSQL could not enforce), <paramref name="refused"/> makes the answer for the model.
    /// </summary>
    public async Task<T> InReadOnlyTransactionAsync<T>(
        Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> body, Func<string, T> refused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(refused);
        ReaderConnection lease;
        try
        {
            lease = await target.OpenAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.TooManyConnections)
        {
            return refused("SQL error 53300: the database has no connection left for the reader (its connection limit is "
                + "reached: earlier queries may still be running on the server). Try again shortly, with a cheaper query.");
        }
        await using (lease)
        {
            var connection = lease.Connection;
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                if (target.Layers.HasFlag(SafetyLayers.Transaction))
                {
                    // READ ONLY, then a snapshot: after the first snapshot, SET TRANSACTION READ WRITE is refused.
                    await using var setup = new NpgsqlBatch(connection, transaction)
                    {
                        BatchCommands = { new NpgsqlBatchCommand("SET TRANSACTION READ ONLY"), new NpgsqlBatchCommand("SELECT 1") },
                    };
                    await setup.ExecuteNonQueryAsync(cancellationToken);
                }
                // Never committed: disposing the transaction rolls it back, whatever the body did or threw.
                return await body(connection, transaction);
            }
            finally
            {
                if (connection.State == ConnectionState.Open)
                {
                    await RollBackPreparedAsync(connection);
                }
            }
        }
    }

    /// <summary>
    /// <c>PREPARE TRANSACTION</c> as the model's statement detaches the tool's transaction: it would outlive the rollback
    /// and the session, hold back VACUUM and take a slot of <c>max_prepared_transactions</c>. Where the server allows
    /// prepared transactions at all, every one the reader owns in this database is rolled back after each call (the
    /// owner may; none is ever legitimate), which also clears any a crashed worker left behind. Two calls may find the
    /// same one: the second's rollback then finds it gone (<c>42704</c>) or busy (<c>55000</c>), which is what it wanted.
    /// </summary>
    private async Task RollBackPreparedAsync(NpgsqlConnection connection)
    {
        if (!await target.AllowsPreparedTransactionsAsync(connection))
        {
            return;
        }
        var gids = new List<string>();
        await using (var find = new NpgsqlCommand(
            "select gid from pg_catalog.pg_prepared_xacts where owner = current_user and database = current_database()", connection))
        await using (var reader = await find.ExecuteReaderAsync(CancellationToken.None))
        {
            while (await reader.ReadAsync(CancellationToken.None))
            {
                gids.Add(reader.GetString(0));
            }
        }
        foreach (var gid in gids)
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK PREPARED '" + gid.Replace("'", "''", StringComparison.Ordinal) + "'", connection);
            try
            {
                await rollback.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedObject or PostgresErrorCodes.ObjectNotInPrerequisiteState)
            {
                // Another call rolled it back first (gone), or is rolling it back now (busy).
            }
        }
    }

    /// <summary>Runs one statement written by the model and returns at most <c>MaxRows</c> rows, compactly.</summary>
    public Task<ToolResult> QueryAsync(string sql, CancellationToken cancellationToken) =>
        InReadOnlyTransactionAsync(async (connection, transaction) =>
        {
            // The client-side timeout backs up statement_timeout should the server not apply it.
            var timeout = (int)Math.Ceiling(target.Options.StatementTimeout.TotalSeconds) + 5;
            // One NpgsqlBatchCommand: Npgsql sends the text unchanged over the extended protocol, where PostgreSQL
            // refuses a second statement. A plain command without parameters is split on ';' and run statement by
            // statement: that path exists only to show, in tests, what the layer prevents.
            await using var batch = target.Layers.HasFlag(SafetyLayers.SingleStatement)
                ? new NpgsqlBatch(connection, transaction) { Timeout = timeout, BatchCommands = { new NpgsqlBatchCommand(sql) } }
                : null;
            if (batch is not null)
            {
                // Every value comes back as PostgreSQL's own text, read as a stream and cut at the caps: no type is
                // materialized whole in the worker, and none can fail conversion.
                AllResultTypesAreUnknown(batch, true);
            }
            await using var command = batch is null
                ? new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = timeout, AllResultTypesAreUnknown = true }
                : null;
            try
            {
                await using var reader = batch is not null
                    ? await batch.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken)
                    : await command!.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken); // Set when batch is not.
                var result = await ResultFormatter.ReadAsync(reader, target.Options, cancellationToken);
                if (result.Truncated)
                {
                    // Stop the server producing rows nobody reads instead of draining them.
                    batch?.Cancel();
                    command?.Cancel();
                }
                return result;
            }
            catch (PostgresException ex) when (ex.SqlState != PostgresErrorCodes.QueryCanceled || !cancellationToken.IsCancellationRequested)
            {
                return ToolResult.Error(Describe(ex));
            }
            catch (NpgsqlException ex) when (ex.InnerException is TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                return ToolResult.Error(TimedOut);
            }
            catch (NotSupportedException)
            {
                // The server answered with a COPY stream (COPY ... TO STDOUT), which a query reader cannot take; Npgsql
                // breaks the connection, which is closed after this call anyway.
                return ToolResult.Error(CopyRefused);
            }
        }, ToolResult.Error, cancellationToken);

    private const string TimedOut = "SQL error: the query ran past its time limit and was cancelled";

    private const string CopyRefused = "SQL error: COPY is not supported here; run a SELECT instead.";

    /// <summary>
    /// What no query may hold, whatever its privileges: XML parsing and XPath run in libxml2, which PostgreSQL cannot
    /// cancel (a crafted path ran 12 s past a 1 s statement_timeout; thousands of attributes parse in quadratic time),
    /// and their ways in are syntax (<c>XMLTABLE</c>, <c>XMLPARSE</c>, a literal given to <c>XMLCONCAT</c>) or the type's
    /// input function (<c>'...'::xml</c>), which no privilege takes away. So any token that starts with <c>xml</c> is
    /// refused: a token cannot be split by comments or quoting, and the only other spelling of a name, a Unicode-escaped
    /// identifier (<c>U&amp;"..."</c>), is refused too. A string or column name that only mentions such a word is
    /// refused as well, which costs a rewrite (or a view). Null when allowed.
    /// </summary>
    public static string? Refusal(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        if (XmlToken().Match(sql) is { Success: true } match)
        {
            return $"{match.Value.ToUpperInvariant()} is not allowed: no XML here (its parsing and XPath cannot be cancelled). Query the data another way.";
        }
        return sql.Contains("u&\"", StringComparison.OrdinalIgnoreCase)
            ? "Unicode-escaped identifiers (U&\"...\") are not allowed; write the name plainly."
            : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\bxml\w*",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex XmlToken();

    /// <summary>
    /// Runs a batch's source query the way the query tool runs the model's: one statement, read-only, as the reader
    /// login, under the same time limit. Returns its columns and up to <paramref name="maxRows"/> rows, whether more rows
    /// followed, or what went wrong. Only the columns named in <paramref name="read"/> are read (the others' values stay
    /// null, their bytes skipped), each value as PostgreSQL's text cut at <paramref name="maxValueChars"/>; reading stops
    /// once the values read come to more than <paramref name="maxTotalChars"/> (<see cref="SourceRows.MoreChars"/>).
    /// When a column of <paramref name="read"/> is missing or named twice, no row is read: the columns tell the caller.
    /// </summary>
    public Task<SourceRows> ReadRowsAsync(
        string sql, IReadOnlyCollection<string> read, int maxRows, int maxValueChars, long maxTotalChars, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(read);
        if (Refusal(sql) is { } refusal)
        {
            return Task.FromResult(SourceRows.Failed(refusal));
        }
        return InReadOnlyTransactionAsync(async (connection, transaction) =>
        {
            var timeout = (int)Math.Ceiling(target.Options.StatementTimeout.TotalSeconds) + 5;
            await using var batch = new NpgsqlBatch(connection, transaction) { Timeout = timeout, BatchCommands = { new NpgsqlBatchCommand(sql) } };
            AllResultTypesAreUnknown(batch, true);
            try
            {
                await using var reader = await batch.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
                if (reader.FieldCount == 0)
                {
                    return SourceRows.Failed("it returned no rows at all: it must be a SELECT");
                }
                var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
                var rows = new List<string?[]>();
                if (read.Any(name => columns.Count(c => string.Equals(c, name, StringComparison.Ordinal)) != 1))
                {
                    batch.Cancel();
                    return new SourceRows(columns, rows, false, null);
                }
                var wanted = columns.Select(c => read.Contains(c, StringComparer.Ordinal)).ToArray();
                var more = false;
                var moreChars = false;
                var total = 0L;
                var buffer = new char[maxValueChars + 1];
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (rows.Count == maxRows)
                    {
                        more = true;
                        break;
                    }
                    var row = new string?[reader.FieldCount];
                    for (var i = 0; i < row.Length; i++)
                    {
                        if (!wanted[i] || await reader.IsDBNullAsync(i, cancellationToken))
                        {
                            continue;
                        }
                        using var text = reader.GetTextReader(i);
                        var count = await text.ReadBlockAsync(buffer, cancellationToken);
                        total += Math.Min(count, maxValueChars);
                        row[i] = count > maxValueChars
                            ? new string(buffer, 0, maxValueChars) + $" [cut at {maxValueChars} characters]"
                            : new string(buffer, 0, count);
                    }
                    rows.Add(row);
                    if (total > maxTotalChars)
                    {
                        moreChars = true;
                        break;
                    }
                }
                if (more || moreChars)
                {
                    // Stop the server producing rows nobody reads instead of draining them.
                    batch.Cancel();
                }
                return new SourceRows(columns, rows, more, null, moreChars);
            }
            catch (PostgresException ex) when (ex.SqlState != PostgresErrorCodes.QueryCanceled || !cancellationToken.IsCancellationRequested)
            {
                return SourceRows.Failed(Describe(ex));
            }
            catch (NpgsqlException ex) when (ex.InnerException is TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                return SourceRows.Failed(TimedOut);
            }
            catch (NotSupportedException)
            {
                return SourceRows.Failed(CopyRefused);
            }
        }, SourceRows.Failed, cancellationToken);
    }

    /// <summary>
    /// Npgsql 10 offers "every result column as text" publicly on <see cref="NpgsqlCommand"/> only; on a batch the
    /// property exists but is internal. Bound at compile time: should a later Npgsql drop it, the first tool call throws
    /// <see cref="MissingMethodException"/> and the tests fail, rather than values silently arriving in binary.
    /// </summary>
    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = "set_AllResultTypesAreUnknown")]
    private static extern void AllResultTypesAreUnknown(NpgsqlBatch batch, bool value);

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
