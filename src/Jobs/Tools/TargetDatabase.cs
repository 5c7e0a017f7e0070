using System.Globalization;
using Npgsql;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The database the tools query, opened only as the read-only login, with session settings pinned at connect:
/// read-only default, statement and idle-in-transaction timeouts, and a search_path of the allowed schemas.
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
        // ReadOnlySql resets every session itself (DISCARD ALL) before the connection goes back: Npgsql need not again.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "agent-tools", NoResetOnClose = true };
        if (!Tasks.AppDatabase.SetsPoolSize(connectionString))
        {
            // A tool call holds a connection for one statement: a small pool serves every run of the process.
            builder.MaxPoolSize = DefaultPoolSize;
        }
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

    /// <summary>Connections of the tools' pool when the target connection string sets no <c>Maximum Pool Size</c>.</summary>
    public const int DefaultPoolSize = 16;

    public ToolsOptions Options { get; }

    internal SafetyLayers Layers { get; }

    public string UserName { get; }

    /// <summary>The target database's name (<c>db.namespace</c> on tool spans), when the connection string names it.</summary>
    public string? DatabaseName { get; }

    public NpgsqlDataSource DataSource { get; }

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

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
