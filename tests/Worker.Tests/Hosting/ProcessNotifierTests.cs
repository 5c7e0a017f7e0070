using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Hosting;

/// <summary>
/// A worker process holds one LISTEN connection for every channel; every channel is delivered to its subscribers, and
/// delivery (with a resync) comes back after the connection's backend is terminated.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class ProcessNotifierTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static readonly string[] s_channels = ["agent_tasks", "agent_cancel", "agent_batches", "agent_schedules"];

    private const string ListenBackendsSql =
        "select count(*) from pg_stat_activity where datname = current_database() and application_name = 'agent-worker-listen'";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Counts what a subscription receives.</summary>
    private sealed class Received
    {
        private int _notified;
        private int _resynced;

        public int Notified => Volatile.Read(ref _notified);

        public int Resynced => Volatile.Read(ref _resynced);

        public void Notify() => Interlocked.Increment(ref _notified);

        public void Resync() => Interlocked.Increment(ref _resynced);
    }

    private IProcessNotifier Notifier => env.WorkerServices.GetRequiredService<IProcessNotifier>();

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50, Ct);
        }
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task AWorkerProcess_HoldsOneListenConnection_ForEveryChannel()
    {
        await env.Database.WaitUntilAsync($"select ({ListenBackendsSql}) = 1", null, TimeSpan.FromSeconds(10));
        var received = s_channels.ToDictionary(c => c, _ => new Received());
        var subscriptions = received.Select(r => Notifier.Subscribe(r.Key, r.Value.Notify, r.Value.Resync)).ToList();
        try
        {
            foreach (var channel in s_channels)
            {
                await env.Database.ScalarAsync<object>("select pg_notify(@channel, '')", new { channel });
            }
            foreach (var (channel, got) in received)
            {
                await WaitForAsync(() => got.Notified > 0, $"a NOTIFY on {channel} reached its subscriber");
            }

            Assert.Equal(1L, await env.Database.ScalarAsync<long>(ListenBackendsSql));
            Assert.Equal(1L, await env.Database.ScalarAsync<long>($"""
                select count(*) from pg_stat_activity
                 where datname = current_database() and application_name = 'agent-worker-listen' and query like 'LISTEN %'
                """));
        }
        finally
        {
            subscriptions.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task TheListenBackendTerminated_TheNotifierReconnects_ResyncsAndDeliversAgain()
    {
        await env.Database.WaitUntilAsync($"select ({ListenBackendsSql}) = 1", null, TimeSpan.FromSeconds(10));
        var got = new Received();
        using var subscription = Notifier.Subscribe("agent_batches", got.Notify, got.Resync);
        await env.Database.ScalarAsync<object>("select pg_notify('agent_batches', '')");
        await WaitForAsync(() => got.Notified > 0, "delivered before the fault");
        var resynced = got.Resynced;

        var terminated = await env.Database.ScalarAsync<long>("""
            select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity
                                   where datname = current_database() and application_name = 'agent-worker-listen') t
            """);
        Assert.Equal(1L, terminated);
        await WaitForAsync(() => got.Resynced > resynced, "told to resync after the reconnect");
        var notified = got.Notified;
        await env.Database.ScalarAsync<object>("select pg_notify('agent_batches', '')");

        await WaitForAsync(() => got.Notified > notified, "delivered after the reconnect");
        Assert.Equal(1L, await env.Database.ScalarAsync<long>(ListenBackendsSql));
        // The executor's subscription came back too: a task enqueued now is picked up.
        var id = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')");
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id, TimeSpan.FromSeconds(60)));
    }
}
