using AgentWorker.Jobs.Tasks;
using Hangfire.PostgreSql;
using Npgsql;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>Hangfire.PostgreSql's schema (<see cref="HangfireStorage.SchemaName"/>), installed with the migrations.</summary>
internal sealed class HangfireSchema : ISchemaInstaller
{
    public Task InstallAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Hangfire's installer is synchronous; it runs once per start, on the migrations' connection.
        PostgreSqlObjectsInstaller.Install(connection, HangfireStorage.SchemaName);
        return Task.CompletedTask;
    }
}
