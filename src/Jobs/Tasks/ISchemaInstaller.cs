using Npgsql;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The schema of a library the worker uses (Hangfire's), installed by the migration runner after the migrations,
/// under the same lock, so processes that start together do not race to create it.
/// </summary>
public interface ISchemaInstaller
{
    Task InstallAsync(NpgsqlConnection connection, CancellationToken cancellationToken);
}
