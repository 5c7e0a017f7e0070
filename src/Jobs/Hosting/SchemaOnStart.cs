using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Hosting;

/// <summary>
/// The first thing a process that uses the App database does on start: applies pending migrations
/// (<see cref="SchemaOptions.PrepareSchemaIfNecessary"/>), or, when that is off, refuses to start while one is missing.
/// Hosted services start in registration order, so nothing registered after it touches a schema that is not there.
/// </summary>
internal sealed class SchemaOnStart(
    MigrationRunner runner,
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource,
    IOptions<SchemaOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.PrepareSchemaIfNecessary)
        {
            await runner.MigrateAsync(Migration.Embedded, cancellationToken);
            return;
        }
        var missing = await MissingAsync(dataSource, cancellationToken);
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The App database lacks migrations this version needs: {string.Join(", ", missing)}. Worker__PrepareSchemaIfNecessary "
                + "is false, so this process does not apply them: run 'Worker migrate' (or start one process with it true).");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The embedded migrations not recorded in <c>agent.schema_migrations</c> (all of them on an empty database).</summary>
    public static async Task<IReadOnlyList<string>> MissingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var journal = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select to_regclass('agent.schema_migrations') is not null", cancellationToken: cancellationToken));
        var applied = journal
            ? (await connection.QueryAsync<string>(new CommandDefinition(
                "select name from agent.schema_migrations", cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal)
            : [];
        return Migration.Embedded.Select(m => m.Name).Where(name => !applied.Contains(name)).ToList();
    }
}
