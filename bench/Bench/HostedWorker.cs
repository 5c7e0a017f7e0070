using AgentWorker.Dashboard;
using AgentWorker.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace AgentWorker.Bench;

/// <summary>The worker host (dispatcher, Hangfire server, pool), and optionally the dashboard host, in this process.</summary>
internal sealed class HostedWorker : IAsyncDisposable
{
    private readonly IHost _worker;
    private readonly WebApplication? _dashboard;

    private HostedWorker(IHost worker, WebApplication? dashboard)
    {
        _worker = worker;
        _dashboard = dashboard;
    }

    public IServiceProvider Services => _worker.Services;

    public Uri? DashboardUrl => _dashboard is null ? null : new Uri(_dashboard.Urls.First());

    public static async Task<HostedWorker> StartAsync(BenchDatabase db, Uri simulator, bool dashboard, params string[] extra)
    {
        var worker = WorkerHost.CreateBuilder([
            $"--ConnectionStrings:App={db.ConnectionString}", $"--ConnectionStrings:Target={db.ReaderConnectionString}",
            "--Tools:Schemas=shop", $"--Llm:BaseUrl={simulator}", "--Llm:ApiKey=sim-key", "--Llm:Model=sim-1",
            "--Serilog:MinimumLevel:Default=Warning", "--Logging:LogLevel:Default=Warning", .. extra]).Build();
        await worker.StartAsync();
        WebApplication? web = null;
        if (dashboard)
        {
            web = DashboardApp.Create([$"--ConnectionStrings:App={db.ConnectionString}", "--urls", "http://127.0.0.1:0",
                "--Serilog:MinimumLevel:Default=Warning", "--Logging:LogLevel:Default=Warning"]);
            await web.StartAsync();
        }
        return new HostedWorker(worker, web);
    }

    public async ValueTask DisposeAsync()
    {
        if (_dashboard is not null)
        {
            await _dashboard.StopAsync();
            await _dashboard.DisposeAsync();
        }
        await _worker.StopAsync();
        _worker.Dispose();
    }
}
