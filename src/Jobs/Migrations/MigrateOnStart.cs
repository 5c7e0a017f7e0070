using Microsoft.Extensions.Hosting;

namespace AgentWorker.Jobs.Migrations;

/// <summary>Applies pending migrations when a host starts; register it before every other hosted service.</summary>
internal sealed class MigrateOnStart(MigrationRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runner.MigrateAsync(Migration.Embedded, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
