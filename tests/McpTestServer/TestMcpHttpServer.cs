using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentWorker.McpTestServer;

/// <summary>
/// The test tools over streamable HTTP at <c>/mcp</c> on 127.0.0.1, optionally refusing (401) every request without
/// a given header and value.
/// </summary>
public sealed class TestMcpHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestMcpHttpServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The MCP endpoint (<c>http://127.0.0.1:port/mcp</c>).</summary>
    public Uri Url { get; }

    /// <summary>Requests refused for a missing or wrong header.</summary>
    public int Refused => _refused;

    private int _refused;

    public static async Task<TestMcpHttpServer> StartAsync(string? header = null, string? value = null, int port = 0, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddMcpServer().WithHttpTransport().WithTools<TestTools>();
        var app = builder.Build();
        TestMcpHttpServer? server = null;
        if (header is not null)
        {
            app.Use(async (context, next) =>
            {
                if (context.Request.Headers[header] != value)
                {
                    Interlocked.Increment(ref server!._refused);
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    await context.Response.WriteAsync($"missing or wrong {header}", context.RequestAborted);
                    return;
                }
                await next(context);
            });
        }
        app.MapMcp("/mcp");
        await app.StartAsync(cancellationToken);
        server = new TestMcpHttpServer(app, new Uri(new Uri(app.Urls.First()), "/mcp"));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
