using System.Data.Common;
using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The App database as the processes of this product open it: one bounded pool for the queue, steps and results
/// (keyed service <see cref="Key"/>), and separate unpooled connections for LISTEN.
/// </summary>
public static class AppDatabase
{
    /// <summary>The key of the App database's <see cref="NpgsqlDataSource"/> in the service container.</summary>
    public const string Key = "app";

    /// <summary>The key of the App database's unpooled <see cref="NpgsqlDataSource"/> for LISTEN.</summary>
    public const string ListenKey = "app-listen";

    /// <summary>Connections of the App pool when the connection string sets no <c>Maximum Pool Size</c>.</summary>
    public const int DefaultPoolSize = 25;

    private static readonly string[] s_poolSizeKeys = ["Maximum Pool Size", "Max Pool Size", "MaxPoolSize", "MaximumPoolSize"];

    /// <summary>
    /// The App pool: a run holds a connection only for the statement it runs, so a few dozen serve thousands of runs.
    /// Connections are not reset on return (no <c>DISCARD ALL</c> round trip and commit): nothing on this pool changes
    /// session state (LISTEN has its own connections, see <see cref="ForListening"/>).
    /// </summary>
    public static string ForPool(string connectionString, int defaultPoolSize = DefaultPoolSize)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true };
        if (!SetsPoolSize(connectionString))
        {
            builder.MaxPoolSize = defaultPoolSize;
        }
        builder.ApplicationName ??= "agent-worker";
        return builder.ConnectionString;
    }

    /// <summary>An unpooled connection for LISTEN: its notifications never leak into the pool.</summary>
    public static string ForListening(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            KeepAlive = 15, // a dead server is noticed while the connection only waits for notifications
            ApplicationName = "agent-worker-listen",
        }.ConnectionString;

    /// <summary>Whether the connection string chooses its own pool size (then it wins over our default).</summary>
    public static bool SetsPoolSize(string connectionString)
    {
        var keys = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return s_poolSizeKeys.Any(keys.ContainsKey);
    }
}
