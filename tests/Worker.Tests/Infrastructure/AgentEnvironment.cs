using AgentWorker.Dashboard;
using AgentWorker.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentWorker.Tests.Infrastructure;

/// <summary>
/// Everything of the README demo in-process, over real sockets: a database cloned from the template, the simulator,
/// a worker host (dispatcher + Hangfire server + pool) and the dashboard host. Hangfire's configuration is
/// process-wide, so the classes that start one run one at a time (<see cref="AgentEnvironmentGroup"/>).
/// </summary>
public class AgentEnvironment : IAsyncLifetime
{
    private IHost? _worker;
    private WebApplication? _dashboard;

    public TestDatabase Database { get; private set; } = null!; // Set in InitializeAsync.

    /// <summary>The database the tools query: <see cref="Database"/> itself, unless the variant wants one of its own.</summary>
    public TestDatabase Target { get; private set; } = null!; // Set in InitializeAsync.

    /// <summary>Whether the tools query a database of their own (the safe set-up) rather than the App database.</summary>
    protected virtual bool SeparateTarget => false;

    public SimulatorHost Simulator { get; private set; } = null!; // Set in InitializeAsync.

    public Uri DashboardUrl { get; private set; } = null!; // Set in InitializeAsync.

    /// <summary>More worker settings (<c>--Key=value</c>) for a variant of the environment.</summary>
    protected virtual IEnumerable<string> WorkerArguments => [];

    /// <summary>More simulator settings for a variant of the environment (a reasoning model ...).</summary>
    protected virtual IEnumerable<string> SimulatorArguments => [];

    /// <summary>More worker services for a variant of the environment (a model's IChatClient ...).</summary>
    protected virtual void ConfigureWorker(IServiceCollection services)
    {
    }

    /// <summary>The worker's services (the socket pool, the model client ...).</summary>
    public IServiceProvider WorkerServices => _worker?.Services ?? throw new InvalidOperationException("The worker has not started.");

    public async ValueTask InitializeAsync()
    {
        var server = await TestContext.Current.GetFixture<PostgresServer>()
            ?? throw new InvalidOperationException("The PostgresServer assembly fixture is missing.");
        Database = await server.CreateDatabaseAsync();
        Target = SeparateTarget ? await server.CreateDatabaseAsync() : Database;
        Simulator = await SimulatorHost.StartAsync([.. SimulatorArguments]);
        string[] shared = [$"--ConnectionStrings:App={Database.ConnectionString}", "--Logging:LogLevel:Default=Warning"];
        var worker = WorkerHost.CreateBuilder(
        [
            .. shared,
            $"--ConnectionStrings:Target={Target.ReaderConnectionString}",
            "--Tools:Schemas=shop",
            $"--Llm:BaseUrl={Simulator.BaseUrl}",
            $"--Llm:ApiKey={SimulatorHost.ApiKey}",
            "--Llm:Model=sim-1",
            "--Worker:MaxRuns=8",
            "--Health:Urls=http://127.0.0.1:0",
            .. WorkerArguments,
        ]);
        ConfigureWorker(worker.Services);
        _worker = worker.Build();
        await _worker.StartAsync(TestContext.Current.CancellationToken);
        _dashboard = DashboardApp.Create([.. shared, "--Llm:Model=sim-1", "--urls", "http://127.0.0.1:0"]);
        await _dashboard.StartAsync(TestContext.Current.CancellationToken);
        DashboardUrl = new Uri(_dashboard.Urls.First());
    }

    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_dashboard is not null)
        {
            await _dashboard.StopAsync();
            await _dashboard.DisposeAsync();
        }
        if (_worker is not null)
        {
            await _worker.StopAsync();
            _worker.Dispose();
        }
        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
        }
        if (Target is not null && Target != Database)
        {
            await Target.DisposeAsync();
        }
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }

    /// <summary>Waits until the task leaves queued/running; returns its final status.</summary>
    /// <summary>
    /// Waits until no task is running or due: a fault injected into the simulator next then hits the test's own task,
    /// not one a previous test left running (a follow-up, a schedule's batch).
    /// </summary>
    public Task WaitForIdleAsync() =>
        Database.WaitUntilAsync("select count(*) = 0 from agent.tasks where status = 'running' or (status = 'queued' and run_at <= now())",
            null, TimeSpan.FromSeconds(60));

    public async Task<string> WaitForTaskAsync(long id, TimeSpan? timeout = null)
    {
        // Beyond the dispatcher's lease (60 s): a task whose job was lost is dispatched again by its sweep by then.
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var status = await Database.ScalarAsync<string>("select status from agent.tasks where id = @id", new { id });
            if (status is not ("queued" or "running") || started.Elapsed > limit)
            {
                return status;
            }
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
