using AgentWorker.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace AgentWorker.Worker;

/// <summary>
/// The worker's health endpoints, <c>/healthz</c> and <c>/readyz</c>, on <c>Health:Urls</c> (environment
/// <c>Health__Urls</c>, e.g. <c>http://0.0.0.0:8080</c>; several separated by ';'). Unset (the default) opens no port.
/// Started first, so liveness answers while the worker starts and readiness says what is still missing.
/// </summary>
internal sealed class HealthServer(IConfiguration configuration, HealthCheckService checks) : IHostedService, IAsyncDisposable
{
    public const string UrlsKey = "Health:Urls";

    private WebApplication? _app;

    /// <summary>The addresses it listens on (with the ports given for port 0), empty when off.</summary>
    public IReadOnlyList<string> Urls => _app?.Urls.ToList() ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var urls = configuration[UrlsKey];
        if (string.IsNullOrWhiteSpace(urls))
        {
            return;
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Logging.ClearProviders();
        // The checks of the worker's own container, served by this small app's endpoint.
        builder.Services.AddHealthChecks();
        builder.Services.AddSingleton(checks);
        _app = builder.Build();
        _app.MapHealth();
        await _app.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
