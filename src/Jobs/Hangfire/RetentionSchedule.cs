using Hangfire;
using Hangfire.Common;
using AgentWorker.Jobs.Maintenance;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// At start, puts the retention sweep on Hangfire's recurring jobs (every process does; the job is one), or removes it
/// when retention is off (<c>Retention__FinishedTasks=0</c>).
/// </summary>
internal sealed partial class RetentionSchedule(
    IRecurringJobManager recurringJobs,
    IOptions<RetentionOptions> options,
    ILogger<RetentionSchedule> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            recurringJobs.RemoveIfExists(RetentionJob.RecurringJobId);
            LogOff();
            return Task.CompletedTask;
        }
        var cron = settings.Cron();
        recurringJobs.AddOrUpdate(RetentionJob.RecurringJobId,
            Job.FromExpression<RetentionJob>(job => job.RunAsync(CancellationToken.None), AgentTaskJob.ControlQueue),
            cron, new RecurringJobOptions { MisfireHandling = MisfireHandlingMode.Relaxed });
        LogOn(settings.FinishedTasks, cron);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Retention: finished tasks are kept {Keep}; the sweep runs at '{Cron}'")]
    private partial void LogOn(TimeSpan keep, string cron);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Retention is off (Retention__FinishedTasks=0): finished tasks and their steps are kept forever")]
    private partial void LogOff();
}
