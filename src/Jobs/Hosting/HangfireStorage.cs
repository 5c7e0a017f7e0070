using Hangfire;
using Hangfire.PostgreSql;

namespace AgentWorker.Jobs.Hosting;

/// <summary>Hangfire on PostgreSQL as every process of this product configures it (worker and dashboard alike).</summary>
public static class HangfireStorage
{
    public const string SchemaName = "hangfire";

    public static IGlobalConfiguration UseAgentStorage(this IGlobalConfiguration configuration, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
            {
                SchemaName = SchemaName,
                // Installed by MigrationRunner under its advisory lock, before any Hangfire component starts.
                PrepareSchemaIfNecessary = false,
                // LISTEN/NOTIFY instead of the 15 s queue poll: pickup in milliseconds.
                EnableLongPolling = true,
                // Jobs stay invisible to other workers while their server heartbeats, however long a run takes.
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromMinutes(5),
                QueuePollInterval = TimeSpan.FromSeconds(5),
            });
    }
}
