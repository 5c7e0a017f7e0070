using AgentWorker.Tests.Infrastructure;
using Npgsql;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// The App database as another login of it sees it (CONNECT, through PUBLIC, and nothing else): what it may listen to,
/// signal and lock must not reach the worker's tasks.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class SqlSurfaceTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Enqueues a task whose one tool call sleeps, and returns once that call runs.</summary>
    private async Task<long> StartSlowTaskAsync(double seconds)
    {
        await env.WaitForIdleAsync();
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => @prompt)",
            new { prompt = $"Run `select pg_sleep({seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}) as slept`" });
        await env.Database.WaitUntilAsync("select count(*) >= 1 from agent.steps where task_id = @id", new { id });
        return id;
    }

    [Fact]
    public async Task ForgedCancelNotification_FromAnotherLogin_DoesNotStopTheRun()
    {
        await using var outsider = await OutsiderLogin.CreateAsync(env.Database);
        var id = await StartSlowTaskAsync(3);

        await outsider.PsqlAsync($"select pg_notify('agent_cancel', '{id}'); notify agent_cancel, '{id}'");

        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
    }

    [Fact]
    public async Task Cancel_ByTheSqlFunction_StillStopsTheRunWithinSeconds()
    {
        var id = await StartSlowTaskAsync(4);

        await env.Database.ScalarAsync<string>("select agent.cancel(@id)", new { id });

        // The heartbeat alone would take up to 20 s (a third of the lease): the notification woke it.
        Assert.Equal("cancelled", await env.WaitForTaskAsync(id, TimeSpan.FromSeconds(8)));
    }

    [Fact]
    public async Task Notifications_TellListenersNothing()
    {
        await env.WaitForIdleAsync();
        await using var outsider = await OutsiderLogin.CreateAsync(env.Database);
        await using var listener = new NpgsqlConnection(outsider.ConnectionString);
        await listener.OpenAsync(Ct);
        var heard = new List<(string Channel, string Payload)>();
        listener.Notification += (_, e) => { lock (heard) { heard.Add((e.Channel, e.Payload)); } };
        await using (var listen = new NpgsqlCommand(
            "listen agent_tasks; listen agent_cancel; listen agent_batches; listen agent_batch_finished; listen agent_schedules", listener))
        {
            await listen.ExecuteNonQueryAsync(Ct);
        }

        var task = await StartSlowTaskAsync(2);
        await env.Database.ScalarAsync<string>("select agent.cancel(@task)", new { task });
        var batch = await env.Database.ScalarAsync<long>(
            "select agent.enqueue_batch(name => 'secret-batch', template => 'How many orders has customer {{id}}?', source_sql => 'select 1 as id')");
        await env.Database.ScalarAsync<string>("select agent.cancel_batch(@batch)::text", new { batch });
        await env.Database.ScalarAsync<object>("select agent.upsert_schedule(name => 'secret-schedule', cron => '0 2 * * *', prompts => array['How many orders?'])");
        await env.Database.ScalarAsync<object>("select agent.delete_schedule('secret-schedule')");
        var listening = System.Diagnostics.Stopwatch.StartNew();
        while (listening.Elapsed < TimeSpan.FromSeconds(3))
        {
            await listener.WaitAsync(TimeSpan.FromMilliseconds(200), Ct);
        }

        List<(string Channel, string Payload)> all;
        lock (heard)
        {
            all = [.. heard];
        }
        Assert.Equal(["agent_batches", "agent_cancel", "agent_schedules", "agent_tasks"],
            all.Select(n => n.Channel).Where(c => c != "agent_batch_finished").Distinct().Order(StringComparer.Ordinal));
        Assert.All(all, n => Assert.Equal("", n.Payload));
    }
}
