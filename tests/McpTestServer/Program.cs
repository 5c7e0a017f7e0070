using AgentWorker.McpTestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// '--http PORT [HEADER VALUE]': streamable HTTP on 127.0.0.1:PORT/mcp; otherwise stdio (stdout carries the protocol,
// so every log line goes to stderr).
if (args is ["--http", var port, ..])
{
    await using var http = await TestMcpHttpServer.StartAsync(args.ElementAtOrDefault(2), args.ElementAtOrDefault(3), int.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
    await Console.Out.WriteLineAsync(http.Url.ToString());
    await Task.Delay(Timeout.Infinite);
    return;
}
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddMcpServer().WithStdioServerTransport().WithTools<TestTools>();
await builder.Build().RunAsync();
