using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// The worker's MCP servers: one <see cref="McpServerConnection"/> each, kept connected from start to stop. The start
/// waits for each server's first attempt at most its <see cref="McpServerOptions.StartTimeout"/>: a server that is down
/// or slow never holds the worker back (its tools appear when it answers, and its callers are told it is down).
/// </summary>
internal sealed partial class McpServers : IHostedService, IDisposable
{
    private readonly IReadOnlyList<McpServerConnection> _connections;
    private readonly TimeProvider _time;
    private readonly ILogger<McpServers> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private List<Task> _loops = [];

    public McpServers(McpServerNames names, IOptionsMonitor<McpServerOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _connections = [.. names.All.Select(name => new McpServerConnection(name, options.Get(name), time, loggers))];
        _time = time;
        _logger = loggers.CreateLogger<McpServers>();
    }

    public IReadOnlyList<McpServerConnection> Connections => _connections;

    public McpServerConnection Get(string name) =>
        _connections.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidOperationException($"No MCP server is named \"{name}\".");

    public IReadOnlyList<McpServerState> States() => [.. _connections.Select(c => c.State)];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _loops = [.. _connections.Select(c => Task.Run(() => c.RunAsync(_stopping.Token), CancellationToken.None))];
        await Task.WhenAll(_connections.Select(c => FirstAttemptAsync(c, cancellationToken)));
    }

    private async Task FirstAttemptAsync(McpServerConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.FirstAttempt.WaitAsync(connection.Options.StartTimeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            LogNotYet(connection.Name, connection.Options.StartTimeout.TotalSeconds);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }

    [LoggerMessage(EventId = 4200, Level = LogLevel.Warning, Message = "MCP server {Server} did not answer within {Seconds} s of the start: the worker starts without it and keeps trying")]
    private partial void LogNotYet(string server, double seconds);
}
