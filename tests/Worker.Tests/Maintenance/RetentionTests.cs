using AgentWorker.Jobs.Hangfire;
using AgentWorker.Jobs.Maintenance;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using AgentWorker.Worker;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Tests.Maintenance;

/// <summary>
/// The retention sweep on a real database beside a running worker: old finished tasks go with their steps and their
/// emptied batches; queued, running, recent and retried tasks stay, checkpoint included; two sweeps never overlap.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class RetentionTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RetentionJob Job(TimeSpan keep, int batchSize = 3) => new(
        new RetentionSweep(env.WorkerServices.GetRequiredKeyedService<NpgsqlDataSource>(AppDatabase.Key),
            Options.Create(new RetentionOptions { FinishedTasks = keep, BatchSize = batchSize }), NullLogger<RetentionSweep>.Instance),
        env.WorkerServices.GetRequiredService<JobStorage>());

    private Task<long> CountAsync(string sql, object? parameters = null) => env.Database.ScalarAsync<long>(sql, parameters);

    private async Task<long> RunAsync(string prompt)
    {
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)", new { prompt });
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        return id;
    }

    private Task<object> AgeAsync(long[] ids, string age) => env.Database.ScalarAsync<object>(
        $"update agent.tasks set finished_at = now() - interval '{age}', created_at = now() - interval '{age}' where id = any(@ids)", new { ids });

    [Fact]
    public async Task Sweep_AnotherLoginHoldingAdvisoryLocks_StillRuns()
    {
        // Any login of the database may take any advisory key, the one the sweep used to take included (here the
        // template's reader-role revoked them from PUBLIC, as it does where the tools query the App database).
        await using var outsider = await OutsiderLogin.CreateAsync(env.Database);
        await env.Database.ScalarAsync<object>($"grant execute on function pg_advisory_lock(bigint) to {outsider.Role}");
        await outsider.HoldAsync("select pg_advisory_lock(hashtext('agent.retention'))", outsider.HoldsAdvisoryLock);

        var result = await Job(TimeSpan.FromDays(30)).SweepAsync(Ct);

        Assert.False(result.Skipped);
    }

    [Fact]
    public async Task Sweep_RemovesOldFinishedTasksWithTheirStepsAndEmptiedBatches_AndLeavesEverythingElse()
    {
        await env.WaitForIdleAsync();
        var old = new[] { await RunAsync("How many orders are there? (old 1)"), await RunAsync("How many customers are there? (old 2)") };
        // Failed for real (max_steps): Hangfire keeps a failed job until someone deletes it.
        var failed = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many orders are there? (old, failed)', max_steps => 1)");
        Assert.Equal("failed", await env.WaitForTaskAsync(failed));
        await env.Database.WaitUntilAsync("""
            select exists (select 1 from agent.tasks t join hangfire.job j on j.id = t.hangfire_job_id::bigint
                            where t.id = @failed and j.statename = 'Failed' and j.expireat is null)
            """, new { failed }, TimeSpan.FromSeconds(30));
        var failedJob = await env.Database.ScalarAsync<string>("select hangfire_job_id from agent.tasks where id = @failed", new { failed });
        old = [.. old, failed];
        var recent = await RunAsync("How many products are there? (recent)");
        var retried = await RunAsync("How many orders are there? (retried)");
        var batch = await env.Database.ScalarAsync<long>("select agent.enqueue_batch(name => 'retention old batch', prompts => array['How many orders?', 'How many products?'])");
        var halfBatch = await env.Database.ScalarAsync<long>("select agent.enqueue_batch(name => 'retention half batch', prompts => array['How many orders?', 'How many customers?'])");
        await env.Database.WaitUntilAsync("select bool_and(status = 'finished') from agent.batches where id = any(@ids)", new { ids = new[] { batch, halfBatch } }, TimeSpan.FromSeconds(60));
        var batchTasks = await env.Database.ScalarAsync<long[]>("select array_agg(id) from agent.tasks where batch_id = @batch", new { batch });
        var halfOld = await env.Database.ScalarAsync<long>("select min(id) from agent.tasks where batch_id = @halfBatch", new { halfBatch });
        await AgeAsync([.. old, .. batchTasks, halfOld, retried], "2 hours");
        await env.Database.ScalarAsync<object>("update agent.batches set finished_at = now() - interval '2 hours' where id = any(@ids)", new { ids = new[] { batch, halfBatch } });
        // Failed long ago, then retried: queued again (waiting here), its steps are the checkpoint its next run resumes from.
        await env.Database.ScalarAsync<object>("update agent.tasks set status = 'failed', error_code = 'model_error', result_text = null where id = @retried", new { retried });
        // One transaction, so the worker cannot claim it in between.
        Assert.Equal("queued", await env.Database.ScalarAsync<string>(
            "select agent.retry(@retried); update agent.tasks set run_at = now() + interval '1 hour' where id = @retried", new { retried }));
        var retriedSteps = await CountAsync("select count(*) from agent.steps where task_id = @retried", new { retried });
        // Queued for later and running elsewhere: never the sweep's, however old.
        var queued = await env.Database.ScalarAsync<long>(
            "select agent.enqueue(prompt => 'later', run_at => now() + interval '1 hour')");
        var running = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'held elsewhere', run_at => now() + interval '1 hour')");
        await env.Database.ScalarAsync<object>("""
            update agent.tasks set status = 'running', run_at = now(), started_at = now() - interval '3 hours', created_at = now() - interval '3 hours',
                   lease_owner = 'another-process:1', lease_expires_at = now() + interval '1 hour'
             where id = @running
            """, new { running });
        var doomed = (long[])[.. old, .. batchTasks, halfOld];
        var doomedSteps = await CountAsync("select count(*) from agent.steps where task_id = any(@doomed)", new { doomed });
        Assert.True(doomedSteps > 0);

        var result = await Job(TimeSpan.FromHours(1)).SweepAsync(Ct);

        Assert.False(result.Skipped);
        Assert.Equal(doomed.Length, result.Tasks);
        Assert.Equal(doomedSteps, result.Steps);
        Assert.Equal(0, await CountAsync("select count(*) from agent.tasks where id = any(@doomed)", new { doomed }));
        Assert.Equal(0, await CountAsync("select count(*) from agent.steps where task_id = any(@doomed)", new { doomed }));
        Assert.Equal(1, result.Batches);
        Assert.Equal(0, await CountAsync("select count(*) from agent.batches where id = @batch", new { batch }));
        Assert.Equal(1, await CountAsync("select count(*) from agent.batches where id = @halfBatch", new { halfBatch }));
        Assert.Equal(4, await CountAsync("select count(*) from agent.tasks where id = any(@kept)", new { kept = new[] { recent, retried, queued, running } }));
        Assert.Equal(retriedSteps, await CountAsync("select count(*) from agent.steps where task_id = @retried", new { retried }));
        // The failed task's job no longer waits in Hangfire's Failed list for a task that is gone.
        Assert.Equal(1, await CountAsync("select count(*) from hangfire.job where id = @job::bigint and expireat <= now()", new { job = failedJob }));

        // The retried task resumes from the checkpoint the sweep left: its stored answer, no new model turn.
        await env.Database.ScalarAsync<object>("update agent.tasks set run_at = now() where id = @retried", new { retried });
        Assert.Equal("succeeded", await env.WaitForTaskAsync(retried));
        Assert.Equal(retriedSteps, await CountAsync("select count(*) from agent.steps where task_id = @retried", new { retried }));
        Assert.Equal(2, await CountAsync("select attempt from agent.tasks where id = @retried", new { retried }));
        await env.Database.ScalarAsync<object>("delete from agent.tasks where id = any(@ids)", new { ids = new[] { queued, running } });
    }

    [Fact]
    public async Task TwoSweepsAtOnce_NeverOverlap_AndTogetherRemoveEverythingOnce()
    {
        await env.Database.ScalarAsync<object>("""
            with t as (
                insert into agent.tasks (prompt, status, created_at, started_at, finished_at)
                select 'bulk #' || i, 'succeeded', now() - interval '3 days', now() - interval '3 days', now() - interval '3 days'
                  from generate_series(1, 300) i
                returning id)
            insert into agent.steps (task_id, attempt, seq, kind, started_at, finished_at, duration_ms, items)
            select t.id, 1, s, 'model', now(), now(), 1, '[{"type":"message"}]' from t, generate_series(1, 3) s
            """);

        var results = await Task.WhenAll(Job(TimeSpan.FromDays(1), 20).SweepAsync(Ct), Job(TimeSpan.FromDays(1), 20).SweepAsync(Ct));

        Assert.Equal(300, results.Sum(r => r.Tasks));
        Assert.Equal(900, results.Sum(r => r.Steps));
        // Either the second waited its turn out (skipped) or came after the first had finished (nothing left).
        Assert.Contains(results, r => r.Tasks == 300);
        Assert.Equal(0, await CountAsync("select count(*) from agent.tasks where prompt like 'bulk #%'"));

        await using (var holder = env.Database.Open())
        await using (var transaction = await holder.BeginTransactionAsync(Ct))
        {
            await using var hold = new NpgsqlCommand($"lock table {AppLock.RetentionTable} in access exclusive mode", holder, transaction);
            await hold.ExecuteNonQueryAsync(Ct);
            Assert.True((await Job(TimeSpan.FromDays(1)).SweepAsync(Ct)).Skipped);
        }
        Assert.False((await Job(TimeSpan.FromDays(1)).SweepAsync(Ct)).Skipped);
    }

    [Fact]
    public async Task TheSweep_IsAHangfireRecurringJob_ThatAnOperatorCanTrigger()
    {
        var storage = env.WorkerServices.GetRequiredService<JobStorage>();
        using (var connection = storage.GetConnection())
        {
            var job = Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection).Single(j => j.Id == RetentionJob.RecurringJobId);
            Assert.Equal("*/10 * * * *", job.Cron);
            Assert.Equal("agent_control", job.Job.Queue);
        }
        var jobId = env.WorkerServices.GetRequiredService<IRecurringJobManager>() is RecurringJobManager manager
            ? manager.TriggerJob(RetentionJob.RecurringJobId)
            : throw new InvalidOperationException("no RecurringJobManager");
        var monitoring = storage.GetMonitoringApi();
        for (var i = 0; i < 300 && monitoring.JobDetails(jobId)?.History.FirstOrDefault()?.StateName != "Succeeded"; i++)
        {
            await Task.Delay(100, Ct);
        }
        var succeeded = monitoring.JobDetails(jobId)!.History.First();
        Assert.Equal("Succeeded", succeeded.StateName);
        Assert.StartsWith("\"Removed ", succeeded.Data["Result"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Retention:FinishedTasks=-1.00:00:00", "Retention__FinishedTasks")]
    [InlineData("--Retention:Interval=00:00:30", "Retention__Interval")]
    [InlineData("--Retention:Interval=00:01:30", "Retention__Interval")]
    [InlineData("--Retention:Interval=2.00:00:00", "Retention__Interval")]
    [InlineData("--Retention:Interval=00:45:00", "Retention__Interval")]
    [InlineData("--Retention:Interval=01:30:00", "Retention__Interval")]
    [InlineData("--Retention:Interval=05:00:00", "Retention__Interval")]
    [InlineData("--Retention:BatchSize=0", "BatchSize")]
    public async Task BadSettings_FailStartUpNamingTheKey(string setting, string named)
    {
        using var host = WorkerHost.CreateBuilder(
            ["--ConnectionStrings:App=Host=127.0.0.1;Port=1;Database=none;Username=none", "--Llm:ApiKey=k", "--Llm:Model=m", setting]).Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:10:00", "*/10 * * * *")]
    [InlineData("00:01:00", "*/1 * * * *")]
    [InlineData("02:00:00", "0 */2 * * *")]
    [InlineData("00:30:00", "*/30 * * * *")]
    [InlineData("12:00:00", "0 */12 * * *")]
    [InlineData("1.00:00:00", "0 0 * * *")]
    public void Interval_BecomesACronSchedule(string interval, string cron) =>
        Assert.Equal(cron, new RetentionOptions { Interval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) }.Cron());
}
