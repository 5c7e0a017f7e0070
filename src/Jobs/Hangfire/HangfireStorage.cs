using AgentWorker.Jobs.Tasks;
using Hangfire;
using Hangfire.PostgreSql;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>Hangfire on PostgreSQL as every process of this product configures it (worker and dashboard alike).</summary>
public static class HangfireStorage
{
    public const string SchemaName = "hangfire";

    /// <summary>Hangfire's schema, for the migration runner: installed after the migrations, under their lock.</summary>
    public static ISchemaInstaller Schema { get; } = new HangfireSchema();

    /// <summary>Connections of Hangfire's pool when the App connection string sets no <c>Maximum Pool Size</c>.</summary>
    public const int DefaultPoolSize = 10;

    /// <summary>
    /// Hangfire's own commits do not wait for the WAL flush (<c>synchronous_commit=off</c>): a crash may lose its last
    /// few state changes, which costs nothing here, because <c>agent.tasks</c> is the source of truth. A job lost that
    /// way is dispatched again by the dispatcher's sweep, and one that runs twice finds its task claimed. Every commit
    /// of ours that matters (steps, outcomes) still waits for the flush.
    /// </summary>
    internal static string WithoutWaitingForFlush(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "agent-hangfire" };
        if (!AppDatabase.SetsPoolSize(connectionString))
        {
            // Control workers, the executor's mirror, server heartbeats and the dashboard: a few connections.
            builder.MaxPoolSize = DefaultPoolSize;
        }
        builder.Options = string.Join(' ', new[] { builder.Options, "-c synchronous_commit=off" }.Where(o => !string.IsNullOrWhiteSpace(o)));
        return builder.ConnectionString;
    }

    public static IGlobalConfiguration UseAgentStorage(this IGlobalConfiguration configuration, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseMovedJobTypes()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(WithoutWaitingForFlush(connectionString)), new PostgreSqlStorageOptions
            {
                SchemaName = SchemaName,
                // Installed with the migrations (Schema), under their lock, before any Hangfire component starts.
                PrepareSchemaIfNecessary = false,
                // LISTEN/NOTIFY instead of the 15 s queue poll: pickup in milliseconds.
                EnableLongPolling = true,
                // Jobs stay invisible to other workers while their server heartbeats, however long a run takes.
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromMinutes(5),
                QueuePollInterval = TimeSpan.FromSeconds(5),
                // The executor's mirror writes a batch of jobs and states in one TransactionScope: one commit.
                EnableTransactionScopeEnlistment = true,
            });
    }
}
