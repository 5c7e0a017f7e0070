using AgentWorker.Jobs.Tools;

namespace AgentWorker.Worker;

/// <summary>
/// Runs before the dispatcher and the Hangfire server start: refuses to start when the tools' login could write
/// to the target, naming every problem.
/// </summary>
internal sealed partial class StartupChecks(TargetDatabase target, ILogger<StartupChecks> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var problems = await ReaderLoginCheck.FindProblemsAsync(target, cancellationToken);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"The tools' database login \"{target.UserName}\" is not read-only: it {string.Join("; it ", problems)}. "
                + "Point ConnectionStrings__Target at a read-only login, or create one with 'Worker reader-role --apply'.");
        }
        LogReady(target.UserName, target.Options.Schemas);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information,
        Message = "Tools query as read-only login {Login} on schemas {Schemas}")]
    private partial void LogReady(string login, string schemas);
}
