using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Hosting;

/// <summary>
/// Runs after the schema and before the executor and the Hangfire server start: refuses to start when the tools' login
/// could write to the target, naming every problem; says what the
/// login can see of the worker's own tables when the target is the App database; builds the tool catalog, so that a
/// tool name that breaks the rules or is taken twice fails the start. Part of every worker, embedded or
/// not: a host cannot leave it out.
/// </summary>
internal sealed partial class WorkerStartChecks(
    TargetDatabase target,
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource app,
    IServiceProvider services,
    ILogger<WorkerStartChecks> logger) : IHostedService
{
    public const string HangfireMissing =
        "Hangfire is not configured: the worker mirrors its tasks into Hangfire and runs its control jobs there. Add "
        + "services.AddHangfire((sp, hangfire) => hangfire.UseAgentStorage(configuration).UseAgentWorker(sp)), or "
        + "UseAgentWorker(sp) on the host's own Hangfire configuration.";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // The tools are made here, so a bad or doubled tool name stops the start with its own message.
        services.GetRequiredService<ToolCatalog>();
        var problems = await ReaderLoginCheck.FindProblemsAsync(target, cancellationToken);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"The tools' database login \"{target.UserName}\" is not read-only: it {string.Join("; it ", problems)}. "
                + "Point ConnectionStrings__Target at a read-only login, or create one with 'Worker reader-role --apply'.");
        }
        if (SameDatabase(app.ConnectionString, target.DataSource.ConnectionString))
        {
            LogSharedDatabase(target.UserName);
        }
        LogReady(target.UserName, target.Options.Schemas);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool SameDatabase(string app, string tools)
    {
        var a = new NpgsqlConnectionStringBuilder(app);
        var t = new NpgsqlConnectionStringBuilder(tools);
        return string.Equals(a.Host, t.Host, StringComparison.OrdinalIgnoreCase) && a.Port == t.Port
            && string.Equals(a.Database ?? a.Username, t.Database ?? t.Username, StringComparison.Ordinal);
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
        Message = "The tools query the App database: login {Login} cannot read the agent and hangfire tables, but the public "
            + "catalogs show it their names, columns, row estimates and the source of their functions. A separate target "
            + "database (ConnectionStrings__Target) hides them.")]
    private partial void LogSharedDatabase(string login);

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information,
        Message = "Tools query as read-only login {Login} on schemas {Schemas}")]
    private partial void LogReady(string login, string schemas);
}

