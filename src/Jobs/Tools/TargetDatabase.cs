using System.Globalization;
using Npgsql;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The database the tools query, opened only as the read-only login, with session settings pinned at connect:
/// read-only default, statement and idle-in-transaction timeouts, and a search_path of the allowed schemas.
/// Every call gets a physical connection of its own, closed after it: a backend keeps state that <c>DISCARD ALL</c>
/// does not reset (compiled regular expressions, catalog caches, memory it grew to), so no backend serves two calls.
/// How many calls of this process hold one at once is bounded here (<see cref="OpenAsync"/>); how many reader
/// backends the whole server runs, by the role's <c>CONNECTION LIMIT</c>.
/// </summary>
internal sealed class TargetDatabase : IAsyncDisposable
{
    public TargetDatabase(string connectionString, ToolsOptions options)
        : this(connectionString, options, SafetyLayers.All)
    {
    }

    internal TargetDatabase(string connectionString, ToolsOptions options, SafetyLayers layers)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Layers = layers;
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "agent-tools" };
        // A tool call holds a connection for one statement: a few serve every run of the process. Maximum Pool Size in
        // the connection string still says how many; the connections themselves are never pooled.
        MaxConnections = Tasks.AppDatabase.SetsPoolSize(connectionString) ? builder.MaxPoolSize : DefaultPoolSize;
        builder.Pooling = false;
        _slots = new SemaphoreSlim(MaxConnections, MaxConnections);
        if (layers.HasFlag(SafetyLayers.Session))
        {
            builder.Options = string.Join(' ',
                "-c default_transaction_read_only=on",
                "-c statement_timeout=" + Milliseconds(options.StatementTimeout),
                "-c idle_in_transaction_session_timeout=" + Milliseconds(options.StatementTimeout * 2),
                "-c search_path=" + string.Join("\\,", options.SchemaList()));
        }
        UserName = builder.Username ?? "";
        DatabaseName = builder.Database;
        DataSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>Tool calls of one process holding a connection at once when the target connection string sets no
    /// <c>Maximum Pool Size</c>.</summary>
    public const int DefaultPoolSize = 8;

    private readonly SemaphoreSlim _slots;

    /// <summary>Tool calls of this process that hold a connection at once.</summary>
    public int MaxConnections { get; }

    public ToolsOptions Options { get; }

    internal SafetyLayers Layers { get; }

    public string UserName { get; }

    /// <summary>The target database's name (<c>db.namespace</c> on tool spans), when the connection string names it.</summary>
    public string? DatabaseName { get; }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// A never-used physical connection for one call, once one of this process's <see cref="MaxConnections"/> slots is
    /// free; disposing it closes the backend and frees the slot. A backend takes milliseconds to start (5.5 ms p50 on
    /// this project's machine, against 0.1 ms for a pooled one): one is kept opened ahead (<see cref="Spare"/>), so a
    /// call mostly finds one ready and the start-up happens off its path.
    /// </summary>
    public async Task<ReaderConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            var connection = TakeSpare() ?? await DataSource.OpenConnectionAsync(cancellationToken);
            OpenSpareAhead();
            return new ReaderConnection(connection, _slots);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>How long a spare may wait before it is closed unused (its server may have restarted meanwhile).</summary>
    internal static readonly TimeSpan SpareLifetime = TimeSpan.FromSeconds(10);

    private sealed record SpareConnection(NpgsqlConnection Connection, long OpenedAt);

    private SpareConnection? _spare;
    private int _openingSpare;
    private volatile bool _disposed;

    /// <summary>The opened-ahead connection, when there is one (for tests).</summary>
    internal NpgsqlConnection? Spare => _spare?.Connection;

    private NpgsqlConnection? TakeSpare()
    {
        var taken = Interlocked.Exchange(ref _spare, null);
        if (taken is null)
        {
            return null;
        }
        var spare = taken;
        if (spare.Connection.State == System.Data.ConnectionState.Open
            && System.Diagnostics.Stopwatch.GetElapsedTime(spare.OpenedAt) < SpareLifetime)
        {
            return spare.Connection;
        }
        spare.Connection.Dispose();
        return null;
    }

    /// <summary>Opens the next call's connection in the background, one at a time; a failure just leaves none ready.</summary>
    private void OpenSpareAhead()
    {
        if (_disposed || Volatile.Read(ref _spare) is not null || Interlocked.Exchange(ref _openingSpare, 1) == 1)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                var connection = await DataSource.OpenConnectionAsync(CancellationToken.None);
                var previous = Interlocked.Exchange(ref _spare, new SpareConnection(connection, System.Diagnostics.Stopwatch.GetTimestamp()));
                previous?.Connection.Dispose();
                if (_disposed)
                {
                    TakeSpare()?.Dispose();
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The next call opens its own, and says what failed.
            }
            finally
            {
                Volatile.Write(ref _openingSpare, 0);
            }
        });
    }

    /// <summary>
    /// The target connection string: <c>ConnectionStrings:Target</c>, else the App database reached as
    /// <see cref="ToolsOptions.ReaderRole"/>. Never the App login itself.
    /// </summary>
    public static string ResolveConnectionString(string? target, string app, ToolsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(target))
        {
            return target;
        }
        var builder = new NpgsqlConnectionStringBuilder(app)
        {
            Username = options.ReaderRole,
            Password = options.ReaderPassword,
        };
        return builder.ConnectionString;
    }

    private int _maxPreparedTransactions = -1;

    /// <summary>Whether the server allows prepared transactions (<c>max_prepared_transactions</c> &gt; 0); read once.</summary>
    internal async Task<bool> AllowsPreparedTransactionsAsync(NpgsqlConnection connection)
    {
        if (_maxPreparedTransactions < 0)
        {
            await using var command = new NpgsqlCommand("select current_setting('max_prepared_transactions')::int", connection);
            _maxPreparedTransactions = (int)(await command.ExecuteScalarAsync(CancellationToken.None))!;
        }
        return _maxPreparedTransactions > 0;
    }

    private static string Milliseconds(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (TakeSpare() is { } spare)
        {
            await spare.DisposeAsync();
        }
        await DataSource.DisposeAsync();
        _slots.Dispose();
    }
}
