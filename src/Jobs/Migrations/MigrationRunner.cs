using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Migrations;

/// <summary>
/// Applies forward-only SQL files in order, one transaction each, recording name and checksum in
/// <c>agent.schema_migrations</c>, then installs the schemas of the libraries the worker uses (<see cref="ISchemaInstaller"/>:
/// Hangfire's). A lock on <see cref="AppLock.MigrationTable"/>
/// serializes processes that start together (not an advisory lock: any login of the database could hold that one and
/// stall every start-up); a process waits for it at most <see cref="LockWait"/>, then fails naming who holds it.
/// </summary>
public sealed partial class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger, IEnumerable<ISchemaInstaller> installers)
{
    /// <summary>The migrations alone, no other schema.</summary>
    public MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
        : this(dataSource, logger, [])
    {
    }

    private readonly ISchemaInstaller[] _installers = [.. installers];

    /// <summary>How long a process waits for another one's migrations. Default 5 minutes.</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.FromMinutes(5);

    private const string CreateJournalSql = $"""
        create schema if not exists agent;
        create table if not exists agent.schema_migrations (
            name       text primary key,
            checksum   text        not null,
            applied_at timestamptz not null default now()
        );
        create table if not exists {AppLock.MigrationTable} ();
        """;

    /// <summary>Applies every pending migration; returns the names applied now.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        await CreateJournalAsync(lockConnection, cancellationToken);
        await using (await AppLock.AcquireAsync(lockConnection, AppLock.MigrationTable, LockWait, cancellationToken))
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
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
            // The libraries' own schemas, under the same lock: Hangfire's installer is not safe when processes start together.
            foreach (var installer in _installers)
            {
                await installer.InstallAsync(connection, cancellationToken);
            }
            return appliedNow;
        }
    }

    /// <summary>
    /// The journal and the lock's table, before the lock exists: processes starting together on an empty database race
    /// to create them, and the loser's <c>if not exists</c> can still fail on the catalog's unique index. It retries.
    /// </summary>
    private static async Task CreateJournalAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(CreateJournalSql, cancellationToken: cancellationToken));
                return;
            }
            catch (PostgresException ex) when (attempt < 5 && ex.SqlState is PostgresErrorCodes.UniqueViolation
                or PostgresErrorCodes.DuplicateSchema or PostgresErrorCodes.DuplicateTable)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), cancellationToken);
            }
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
