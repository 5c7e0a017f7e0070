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
    /// A new physical connection for one call, once one of this process's <see cref="MaxConnections"/> slots is free;
    /// disposing it closes the backend and frees the slot.
    /// </summary>
    public async Task<ReaderConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return new ReaderConnection(await DataSource.OpenConnectionAsync(cancellationToken), _slots);
        }
        catch
        {
            _slots.Release();
            throw;
        }
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
        await DataSource.DisposeAsync();
        _slots.Dispose();
    }
}
