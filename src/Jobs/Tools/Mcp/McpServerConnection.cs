using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// One MCP server, kept connected for the life of the worker: connects (starting the process of a stdio server),
/// lists the tools, lists them again on <c>notifications/tools/list_changed</c>, and when the session ends (the process
/// exits, the connection drops, a call finds the transport broken) reconnects after a wait that doubles from 1 s up to
/// <see cref="McpServerOptions.MaxReconnectDelay"/>. While it is down its tools stay listed (the last list it gave) and
/// a call gets a tool error saying so; nothing it does fails a task or the worker.
/// </summary>
internal sealed partial class McpServerConnection : IToolSource, IDisposable
{
    /// <summary>The protocol revision from which list changes come only on a <c>subscriptions/listen</c> stream.</summary>
    private const string ListenRevision = "2026-07-28";

    private static readonly TimeSpan s_firstDelay = TimeSpan.FromSeconds(1);

    private readonly McpServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _listing = new(1, 1);
    private IReadOnlyList<RegisteredTool> _tools = [];
    private McpServerState _state;
    private Session? _session;

    public McpServerConnection(string name, McpServerOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        Name = name;
        _options = options;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<McpServerConnection>();
        _state = new McpServerState(name, McpServerState.Connecting, null, 0, time.GetUtcNow(), 0);
    }

    public string Name { get; }

    public string Source => "mcp:" + Name;

    public McpServerOptions Options => _options;

    public IReadOnlyList<RegisteredTool> Tools => Volatile.Read(ref _tools);

    public event Action? Changed;

    public McpServerState State => Volatile.Read(ref _state);

    /// <summary>Completes after the first connection attempt, whichever way it went (the worker's start waits on it, bounded).</summary>
    public Task FirstAttempt => _firstAttempt.Task;

    /// <summary>Keeps the server connected until <paramref name="stoppingToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var delay = s_firstDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = _time.GetTimestamp();
            string reason;
            try
            {
                reason = await SessionAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                reason = Describe(ex);
            }
            // A server that stayed up a while starts again from the shortest wait; one that dies at once backs off.
            delay = _time.GetElapsedTime(started) >= _options.MaxReconnectDelay ? s_firstDelay : delay;
            SetState(McpServerState.Down, reason);
            _firstAttempt.TrySetResult();
            LogDown(Name, reason, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>One session: connect, list, serve calls until it ends; returns why it ended.</summary>
    private async Task<string> SessionAsync(CancellationToken stoppingToken)
    {
        SetState(McpServerState.Connecting, State.Error);
        await using var client = await McpClient.CreateAsync(Transport(), new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "agentworker", Version = typeof(McpServerConnection).Assembly.GetName().Version?.ToString() ?? "0" },
            InitializationTimeout = TimeSpan.FromSeconds(30),
        }, _loggers, stoppingToken);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var session = new Session(client, ended);
        await using var onListChanged = client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            _ = Task.Run(() => ListAgainAsync(session), CancellationToken.None);
            return ValueTask.CompletedTask;
        });
        await ListAsync(client, stoppingToken);
        Volatile.Write(ref _session, session);
        SetState(McpServerState.Connected, null, connected: true);
        _firstAttempt.TrySetResult();
        LogConnected(Name, Tools.Count, client.NegotiatedProtocolVersion ?? "?");
        var listening = string.CompareOrdinal(client.NegotiatedProtocolVersion, ListenRevision) >= 0
            ? ListenAsync(client, ended.Token)
            : Task.CompletedTask;
        try
        {
            var completion = await client.Completion.WaitAsync(ended.Token);
            return completion.Exception is { } exception ? Describe(exception) : Describe(completion);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return session.BrokenBecause ?? "the session ended";
        }
        finally
        {
            Interlocked.CompareExchange(ref _session, null, session);
            await ended.CancelAsync();
            await listening;
        }
    }

    private IClientTransport Transport()
    {
        if (_options.Url is { Length: > 0 } url)
        {
            return new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(url),
                Name = Name,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string>(_options.Headers, StringComparer.OrdinalIgnoreCase),
            }, _loggers);
        }
        return new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = Name,
            Command = _options.Command!,
            Arguments = [.. _options.Arguments],
            WorkingDirectory = _options.WorkingDirectory,
            // The process gets exactly this environment: nothing of the worker's own (connection strings, API keys).
            InheritEnvironmentVariables = false,
            EnvironmentVariables = McpEnvironment.For(_options),
            StandardErrorLines = line => LogStandardError(Name, line),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        }, _loggers);
    }

    /// <summary>Under the 2026-07-28 revision a server sends list changes only to a client that asked for them.</summary>
    private async Task ListenAsync(McpClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.SendRequestAsync(new JsonRpcRequest
            {
                Method = RequestMethods.SubscriptionsListen,
                Params = JsonSerializer.SerializeToNode(
                    new SubscriptionsListenRequestParams { Notifications = new SubscriptionsListenNotifications { ToolsListChanged = true } },
                    McpJsonUtilities.DefaultOptions),
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or McpException or HttpRequestException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                LogListenFailed(Name, ex.Message);
            }
        }
    }

    private async Task ListAgainAsync(Session session)
    {
        try
        {
            await ListAsync(session.Client, session.Ended.Token);
            if (Volatile.Read(ref _session) == session)
            {
                SetState(McpServerState.Connected, null);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !session.Ended.IsCancellationRequested)
        {
            LogListFailed(Name, Describe(ex));
        }
        catch (OperationCanceledException)
        {
            // The session ended while listing: the next one lists again.
        }
    }

    private async Task ListAsync(McpClient client, CancellationToken cancellationToken)
    {
        await _listing.WaitAsync(cancellationToken);
        try
        {
            var listed = await client.ListToolsAsync(cancellationToken: cancellationToken);
            var tools = new List<RegisteredTool>(listed.Count);
            foreach (var tool in listed.Select(t => t.ProtocolTool))
            {
                var name = Name + "__" + Unsafe().Replace(tool.Name, "_");
                try
                {
                    tools.Add(RegisteredTool.Create(new McpToolFunction(this, name, tool), name, Effects(tool), _options.CallTimeout, Source, scoped: false));
                }
                catch (Exception ex) when (ex is ArgumentException or JsonException or InvalidOperationException or FormatException)
                {
                    LogToolLeftOut(tool.Name, Name, ex.Message);
                }
            }
            Volatile.Write(ref _tools, tools);
        }
        finally
        {
            _listing.Release();
        }
        Changed?.Invoke();
    }

    public void Dispose() => _listing.Dispose();

    private ToolSideEffects Effects(Tool tool) => _options.SideEffects ?? tool.Annotations switch
    {
        { ReadOnlyHint: true } => ToolSideEffects.ReadOnly,
        { IdempotentHint: true } => ToolSideEffects.Idempotent,
        _ => ToolSideEffects.SideEffects,
    };

    /// <summary>Calls <paramref name="tool"/> (its name on the server) on the live session; a tool error when there is none or it breaks.</summary>
    public async Task<ToolResult> CallAsync(string tool, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _session) is not { } session)
        {
            var state = State;
            return ToolResult.Error($"MCP server {Name} is not connected: {state.Error ?? "it is still connecting"}. "
                + "The worker reconnects it in the background; the call did not reach it.");
        }
        try
        {
            return McpToolResults.From(await session.Client.CallToolAsync(tool, arguments, cancellationToken: cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException)
        {
            // The SDK fails pending requests when the transport closes (ClientTransportClosedException, an IOException).
            var reason = Describe(ex);
            session.Break(reason);
            return ToolResult.Error($"MCP server {Name} is not connected: the connection was lost during the call ({reason}); "
                + $"whether {tool} took effect is unknown. The worker reconnects it in the background.");
        }
        catch (McpException ex)
        {
            return ToolResult.Error($"MCP server {Name} refused the call of {tool}: {ex.Message}");
        }
    }

    private void SetState(string status, string? error, bool connected = false)
    {
        var previous = State;
        Volatile.Write(ref _state, new McpServerState(Name, status, error, Tools.Count,
            previous.Status == status ? previous.Since : _time.GetUtcNow(), previous.Connections + (connected ? 1 : 0)));
    }

    private static string Describe(Exception exception) => exception switch
    {
        ClientTransportClosedException closed => Describe(closed.Details),
        AggregateException { InnerException: { } inner } => Describe(inner),
        System.ComponentModel.Win32Exception start => $"the command could not be started: {start.Message}",
        _ => exception.Message,
    };

    private static string Describe(ClientCompletionDetails details) => details switch
    {
        StdioClientCompletionDetails { ExitCode: { } code } stdio =>
            $"the server process exited with code {code}" + (stdio.StandardErrorTail is { Count: > 0 } tail ? $" ({Cut(tail[^1])})" : ""),
        HttpClientCompletionDetails { HttpStatusCode: { } status } => $"the server answered HTTP {(int)status}",
        { Exception: { } exception } => Describe(exception),
        _ => "the server closed the session",
    };

    private static string Cut(string text) => text.Length <= 300 ? text : text[..300] + "...";

    /// <summary>A character a tool name may not have (the Responses rule); replaced by '_'.</summary>
    [GeneratedRegex("[^a-zA-Z0-9_-]")]
    private static partial Regex Unsafe();

    private sealed class Session(McpClient client, CancellationTokenSource ended)
    {
        public McpClient Client { get; } = client;

        public CancellationTokenSource Ended { get; } = ended;

        public string? BrokenBecause { get; private set; }

        /// <summary>A call found the transport broken: end the session now rather than wait for the SDK to notice.</summary>
        public void Break(string reason)
        {
            BrokenBecause ??= reason;
            try
            {
                Ended.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The session ended already.
            }
        }
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "MCP server {Server} connected: {Tools} tools (protocol {Protocol})")]
    private partial void LogConnected(string server, int tools, string protocol);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "MCP server {Server} is down: {Reason}; reconnecting in {Seconds} s")]
    private partial void LogDown(string server, string reason, double seconds);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Warning, Message = "MCP server {Server}: listing its tools again failed: {Reason}")]
    private partial void LogListFailed(string server, string reason);

    [LoggerMessage(EventId = 4204, Level = LogLevel.Warning, Message = "Tool {Tool} of MCP server {Server} is left out: {Problem}")]
    private partial void LogToolLeftOut(string tool, string server, string problem);

    [LoggerMessage(EventId = 4205, Level = LogLevel.Debug, Message = "MCP server {Server} stderr: {Line}")]
    private partial void LogStandardError(string server, string line);

    [LoggerMessage(EventId = 4206, Level = LogLevel.Warning, Message = "MCP server {Server}: subscribing to tool list changes failed: {Reason}")]
    private partial void LogListenFailed(string server, string reason);
}
