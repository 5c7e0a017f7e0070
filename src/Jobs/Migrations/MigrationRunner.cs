using AgentWorker.Jobs.Hosting;
using Dapper;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Migrations;

/// <summary>
/// Applies forward-only SQL files in order, one transaction each, recording name and checksum in
/// <c>agent.schema_migrations</c>, then installs Hangfire's schema. A session advisory lock serializes processes that
/// start together.
/// </summary>
public sealed partial class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    // Arbitrary constant shared by every process of this product: "agentmig" in ASCII.
    private const long AdvisoryLockKey = 0x6167656E746D6967;

    private const string CreateJournalSql = """
        create schema if not exists agent;
        create table if not exists agent.schema_migrations (
            name       text primary key,
            checksum   text        not null,
            applied_at timestamptz not null default now()
        );
        """;

    /// <summary>Applies every pending migration; returns the names applied now.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "select pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(CreateJournalSql, cancellationToken: cancellationToken));
            var applied = (await connection.QueryAsync<(string Name, string Checksum)>(new CommandDefinition(
                    "select name, checksum from agent.schema_migrations", cancellationToken: cancellationToken)))
                .ToDictionary(r => r.Name, r => r.Checksum, StringComparer.Ordinal);

            var appliedNow = new List<string>();
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Name, out var checksum))
                {
                    if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
                    {
                        throw new MigrationChecksumException(migration.Name, checksum, migration.Checksum);
                    }
                    continue;
                }
                await ApplyAsync(connection, migration, cancellationToken);
                appliedNow.Add(migration.Name);
            }
            // Hangfire's own schema, under the same lock: its installer is not safe when processes start together.
            PostgreSqlObjectsInstaller.Install(connection, HangfireStorage.SchemaName);
            return appliedNow;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "select pg_advisory_unlock(@key)", new { key = AdvisoryLockKey }, cancellationToken: CancellationToken.None));
        }
    }

    private async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The file runs as one simple-protocol batch: migrations are trusted, multi-statement SQL.
        await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into agent.schema_migrations (name, checksum) values (@Name, @Checksum)",
            new { migration.Name, migration.Checksum }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        var elapsedMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogApplied(migration.Name, elapsedMs);
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Applied migration {Migration} in {ElapsedMs:F0} ms")]
    private partial void LogApplied(string migration, double elapsedMs);
}
