using AgentWorker.Simulator;
using Microsoft.AspNetCore.Builder;

namespace AgentWorker.Testing;

/// <summary>The project's simulator on a free loopback port, over real sockets.</summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    public const string ApiKey = "sim-key";
    private readonly WebApplication _app;

    private SimulatorHost(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The Responses API base, e.g. http://127.0.0.1:41234/v1.</summary>
    public Uri BaseUrl { get; }

    public Uri WebSocketUrl => new(BaseUrl.AbsoluteUri.Replace("http://", "ws://", StringComparison.Ordinal) + "/responses");

    public SimulatorStatistics Statistics => (SimulatorStatistics)_app.Services.GetService(typeof(SimulatorStatistics))!;

    public static async Task<SimulatorHost> StartAsync(params string[] args)
    {
        var app = SimulatorApp.Create(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", .. args]);
        await app.StartAsync();
        return new SimulatorHost(app, new Uri(app.Urls.First() + "/v1"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
