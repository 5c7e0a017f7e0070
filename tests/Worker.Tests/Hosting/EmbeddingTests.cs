using AgentWorker.Jobs.Tasks;
using Microsoft.AspNetCore.Hosting;
using AgentWorker.Tests.Infrastructure;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Tests.Hosting;

/// <summary>
/// The worker embedded in a host of the user's, through the public front door only: an ASP.NET Core app that already has
/// Hangfire (its own server and queue) adds the worker in a few lines, runs a task, and keeps what it had; what the
/// library refuses at start (a writable tools login, a missing schema it may not apply, no Hangfire) it refuses naming it.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class EmbeddingTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestDatabase _database = null!;
    private SimulatorHost _simulator = null!;

    public async ValueTask InitializeAsync()
    {
        var server = await TestContext.Current.GetFixture<PostgresServer>()
            ?? throw new InvalidOperationException("The PostgresServer assembly fixture is missing.");
        _database = await server.CreateDatabaseAsync();
        _simulator = await SimulatorHost.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Dictionary<string, string?> Settings(string? target = null) => new()
    {
        ["ConnectionStrings:App"] = _database.ConnectionString,
        ["ConnectionStrings:Target"] = target ?? _database.ReaderConnectionString,
        ["Tools:Schemas"] = "shop",
        ["Llm:BaseUrl"] = _simulator.BaseUrl.AbsoluteUri,
        ["Llm:ApiKey"] = SimulatorHost.ApiKey,
        ["Llm:Model"] = "sim-1",
        ["Worker:MaxRuns"] = "4",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>A user's web app: its own Hangfire server on its own queue, its own clock, and the worker added to it.</summary>
    private static WebApplication HostWith(Dictionary<string, string?> settings, TimeProvider? time = null,
        Action<IAgentWorkerBuilder>? worker = null, bool hangfire = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }
        if (hangfire)
        {
            builder.Services.AddHangfire((services, config) => config.UseAgentStorage(builder.Configuration).UseAgentWorker(services));
            builder.Services.AddHangfireServer(server =>
            {
                server.Queues = ["host_queue"];
                server.ServerName = "host-server";
                server.WorkerCount = 1;
            });
        }
        builder.Services.AddAgentWorker(builder.Configuration, worker);
        builder.Services.AddHealthChecks().AddAgentWorkerChecks();
        return builder.Build();
    }

    [Fact]
    public async Task AHostWithItsOwnHangfire_AddsTheWorker_RunsATask_AndKeepsItsServerItsQueueAndItsClock()
    {
        var clock = new HostClock();
        await using var web = HostWith(Settings(), clock);
        await web.StartAsync(Ct);
        try
        {
            var tasks = web.Services.GetRequiredService<ITaskClient>();
            var id = await tasks.EnqueueAsync(new EnqueueRequest { Prompt = "How many orders are there?" }, Ct);
            await _database.WaitUntilAsync("select status = 'succeeded' from agent.tasks where id = @id", new { id }, TimeSpan.FromSeconds(60));

            Assert.Same(clock, web.Services.GetRequiredService<TimeProvider>());
            var servers = web.Services.GetRequiredService<JobStorage>().GetMonitoringApi().Servers();
            Assert.Contains(servers, s => s.Name.StartsWith("host-server", StringComparison.Ordinal) && s.Queues.SequenceEqual(["host_queue"]));
            // The worker's own server takes its control queue only: the host's jobs stay with the host's server.
            Assert.Contains(servers, s => s.Name.StartsWith("control:", StringComparison.Ordinal) && s.Queues.SequenceEqual(["agent_control"]));
            var details = await tasks.GetAsync(id, Ct);
            Assert.NotNull(details);
            Assert.False(string.IsNullOrEmpty(details.ResultText));
        }
        finally
        {
            await web.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AWritableToolsLogin_StopsTheHostFromStarting_NamingTheProblem()
    {
        // The App login owns the schema: it could write.
        await using var web = HostWith(Settings(target: _database.ConnectionString));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => web.StartAsync(Ct));

        Assert.Contains("is not read-only", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Target", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await _database.ScalarAsync<long>("select count(*) from agent.tasks where status = 'running'"));
    }

    [Fact]
    public async Task WithoutHangfire_TheHostDoesNotStart_AndSaysWhatToAdd()
    {
        await using var web = HostWith(Settings(), hangfire: false);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => web.StartAsync(Ct));

        Assert.Contains("Hangfire is not configured", error.Message, StringComparison.Ordinal);
        Assert.Contains("UseAgentWorker", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithPrepareSchemaOff_AnEmptyDatabase_StopsTheHostFromStarting_NamingWhatIsMissing()
    {
        var server = await TestContext.Current.GetFixture<PostgresServer>();
        await using var empty = await server!.CreateDatabaseAsync(migrated: false);
        var settings = Settings();
        settings["ConnectionStrings:App"] = empty.ConnectionString;
        settings["Worker:PrepareSchemaIfNecessary"] = "false";
        await using var web = HostWith(settings);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => web.StartAsync(Ct));

        Assert.Contains("0001_", error.Message, StringComparison.Ordinal);
        Assert.Contains("Worker migrate", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await empty.ScalarAsync<long>("select count(*) from pg_namespace where nspname = 'agent'"));
    }

    [Fact]
    public void TheFrontDoor_RefusesNulls_AndTwoCalls_RegisterOneWorker()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings()).Build();

        Assert.Throws<ArgumentNullException>(() => services.AddAgentWorker(null!));
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddAgentTasks(configuration));
        var first = services.AddAgentWorker(configuration);
        var count = services.Count;
        var second = services.AddAgentWorker(configuration);
        services.AddAgentTasks(configuration);

        Assert.Same(first, second);
        Assert.Equal(count, services.Count);
    }

    [Fact]
    public async Task AChatClientAddedOnTheBuilder_ServesItsModel()
    {
        using var client = new Microsoft.Extensions.AI.ConfigureOptionsChatClient(new NoChatClient(), _ => { });
        var services = new ServiceCollection().AddLogging();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings()).Build();

        services.AddAgentWorker(configuration, worker => worker.AddChatClient("chat-x", client));
        await using var provider = services.BuildServiceProvider();

        Assert.Same(client, provider.GetRequiredKeyedService<Microsoft.Extensions.AI.IChatClient>("chat-x"));
        Assert.Throws<ArgumentException>(() => services.AddAgentWorker(configuration, worker => worker.AddChatClient(" ", client)));
    }

    /// <summary>A chat client that is never called: the test only checks where the builder puts it.</summary>
    private sealed class NoChatClient : Microsoft.Extensions.AI.IChatClient
    {
        public Task<Microsoft.Extensions.AI.ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages,
            Microsoft.Extensions.AI.ChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IAsyncEnumerable<Microsoft.Extensions.AI.ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages,
            Microsoft.Extensions.AI.ChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>A host's own clock: the system's, but a type of its own, so the test can tell it from the default.</summary>
    private sealed class HostClock : TimeProvider;
}
