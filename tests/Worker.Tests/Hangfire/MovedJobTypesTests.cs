using AgentWorker.Jobs.Hangfire;
using AgentWorker.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;

// Not AgentWorker.Tests.Hangfire: a namespace of that name would hide Hangfire's own from every test namespace.
namespace AgentWorker.Tests.HangfireAdapter;

/// <summary>
/// Jobs and recurring jobs stored before the control jobs moved into the Hangfire folder name the old types
/// (<c>AgentWorker.Jobs.Runs.AgentTaskJob, AgentWorker.Jobs</c> ...): they still run.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class MovedJobTypesTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("AgentWorker.Jobs.Runs.AgentTaskJob, AgentWorker.Jobs", typeof(AgentTaskJob))]
    [InlineData("AgentWorker.Jobs.Batches.ScheduleJob, AgentWorker.Jobs", typeof(ScheduleJob))]
    [InlineData("AgentWorker.Jobs.Maintenance.RetentionJob, AgentWorker.Jobs", typeof(RetentionJob))]
    [InlineData("AgentWorker.Jobs.Runs.AgentTaskJob, AgentWorker.Jobs, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null", typeof(AgentTaskJob))]
    public void Find_AnOldName_IsTheMovedType(string stored, Type expected) => Assert.Equal(expected, MovedJobTypes.Find(stored));

    [Theory]
    [InlineData("AgentWorker.Jobs.Runs.AgentTaskJob, SomeoneElse")]
    [InlineData("AgentWorker.Jobs.Runs.RunExecutor, AgentWorker.Jobs")]
    [InlineData("AgentWorker.Jobs.Runs.AgentTaskJob")]
    public void Find_AnyOtherName_IsNotOurs(string stored) => Assert.Null(MovedJobTypes.Find(stored));

    [Fact]
    public async Task AJobStoredWithTheOldTypeName_RunsWhenRequeued()
    {
        var client = env.WorkerServices.GetRequiredService<IBackgroundJobClient>();
        var jobId = client.Create(
            Job.FromExpression<AgentTaskJob>(j => j.RequeueAsync(0, "stored by the previous version", CancellationToken.None), AgentTaskJob.ControlQueue),
            new ScheduledState(TimeSpan.FromDays(1)));
        var renamed = await env.Database.ScalarAsync<int>("""
            with renamed as (
                update hangfire.job set invocationdata = replace(invocationdata::text, 'AgentWorker.Jobs.Hangfire.AgentTaskJob', 'AgentWorker.Jobs.Runs.AgentTaskJob')::jsonb
                 where id = @id::bigint returning invocationdata::text)
            select count(*) from renamed where invocationdata like '%AgentWorker.Jobs.Runs.AgentTaskJob, AgentWorker.Jobs%'
            """, new { id = jobId });
        Assert.Equal(1, renamed);

        Assert.True(client.Requeue(jobId));
        var succeeded = await WaitForSucceededAsync(jobId);

        Assert.Equal(typeof(AgentTaskJob), env.WorkerServices.GetRequiredService<JobStorage>().GetMonitoringApi().JobDetails(jobId).Job.Type);
        Assert.StartsWith("\"Task #0 ", succeeded, StringComparison.Ordinal); // the method ran: no such task
    }

    [Fact]
    public async Task ARecurringJobStoredWithTheOldTypeName_RunsWhenTriggered()
    {
        var renamed = await env.Database.ScalarAsync<int>("""
            with renamed as (
                update hangfire.hash set value = replace(value, 'AgentWorker.Jobs.Hangfire.RetentionJob', 'AgentWorker.Jobs.Maintenance.RetentionJob')
                 where key = 'recurring-job:' || @id and field = 'Job' returning value)
            select count(*) from renamed where value like '%AgentWorker.Jobs.Maintenance.RetentionJob, AgentWorker.Jobs%'
            """, new { id = RetentionJob.RecurringJobId });
        Assert.Equal(1, renamed);

        var manager = Assert.IsType<RecurringJobManager>(env.WorkerServices.GetRequiredService<IRecurringJobManager>());
        var jobId = manager.TriggerJob(RetentionJob.RecurringJobId);

        Assert.StartsWith("\"Removed ", await WaitForSucceededAsync(jobId), StringComparison.Ordinal);
    }

    /// <summary>Waits for the job to succeed; returns its result.</summary>
    private async Task<string> WaitForSucceededAsync(string jobId)
    {
        var monitoring = env.WorkerServices.GetRequiredService<JobStorage>().GetMonitoringApi();
        for (var i = 0; i < 300; i++)
        {
            var last = monitoring.JobDetails(jobId)?.History.FirstOrDefault();
            if (last?.StateName is "Succeeded")
            {
                return last.Data["Result"];
            }
            Assert.NotEqual("Failed", last?.StateName);
            await Task.Delay(100, Ct);
        }
        throw new TimeoutException($"Job {jobId} did not succeed: {monitoring.JobDetails(jobId)?.History.FirstOrDefault()?.StateName}");
    }
}
