using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Runs tool calls, one path for every tool: the name must be in the task's selection, the arguments must parse and
/// match the tool's schema; then the function runs with the call's <see cref="ToolCallContext"/>, its own DI scope (C#
/// tools), the run's cancellation and the tool's timeout. What it returns becomes the output text; what it throws, a
/// tool error with the exception's message (the model can correct itself; the task and the worker go on).
/// </summary>
internal sealed partial class ToolRegistry : IToolRegistry
{
    /// <summary>The size cap of one call's arguments when no options are given.</summary>
    public const int DefaultMaxArgumentChars = 64_000;

    private readonly ToolCatalog _catalog;
    private readonly IServiceProvider _services;
    private readonly int _maxArgumentChars;
    private readonly TimeSpan _callTimeout;
    private readonly ILogger _logger;

    public ToolRegistry(ToolCatalog catalog, IServiceProvider services, IOptions<ToolsOptions> options, ILogger<ToolRegistry> logger)
    {
        _catalog = catalog;
        _services = services;
        _maxArgumentChars = options.Value.MaxArgumentChars;
        _callTimeout = options.Value.CallTimeout;
        _logger = logger;
    }

    /// <summary>A registry of database-style tools only (tests).</summary>
    internal ToolRegistry(IEnumerable<IAgentTool> tools, IOptions<ToolsOptions>? options = null)
        : this(Catalog(tools.Select(t => RegisteredTool.Create(new DatabaseToolFunction(t), null, ToolSideEffects.ReadOnly, null, "database", scoped: false))),
            EmptyServices.Instance, options ?? Options.Create(new ToolsOptions()), NullLogger<ToolRegistry>.Instance)
    {
    }

    /// <summary>A registry of the given tools (tests).</summary>
    internal ToolRegistry(IEnumerable<RegisteredTool> tools, IServiceProvider services, IOptions<ToolsOptions>? options = null)
        : this(Catalog(tools), services, options ?? Options.Create(new ToolsOptions()), NullLogger<ToolRegistry>.Instance)
    {
    }

    public ToolSelection Select(IReadOnlyList<string>? patterns) => _catalog.Current.Select(patterns);

    /// <summary>Every tool the catalog has (tests).</summary>
    internal ToolSelection SelectAll() => _catalog.Current.Select([.. _catalog.Current.Tools.Keys]);

    /// <summary>A call outside any task, to every tool (tests).</summary>
    internal Task<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken) =>
        InvokeAsync(SelectAll(), call, new ToolCallContext(0, 1, call.CallId, call.Name, null), cancellationToken);

    public async Task<ToolResult> InvokeAsync(ToolSelection selection, ToolCall call, ToolCallContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(call);
        var (name, argumentsJson) = (call.Name, call.Arguments);
        if (!selection.TryGet(name, out var tool))
        {
            return ToolResult.Error($"Unknown tool \"{Cut(name)}\". Available tools: {string.Join(", ", selection.Names)}.");
        }
        if (argumentsJson.Length > _maxArgumentChars)
        {
            return ToolResult.Error($"The arguments of {name} are {argumentsJson.Length} characters long; the limit is {_maxArgumentChars}.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(string.IsNullOrWhiteSpace(argumentsJson) ? "{}" : argumentsJson);
        }
        catch (JsonException ex)
        {
            return ToolResult.Error($"The arguments of {name} are not valid JSON: {ex.Message}");
        }
        using (document)
        {
            string? problem;
            try
            {
                problem = tool.Check.Problem(document.RootElement);
            }
            catch (InvalidOperationException)
            {
                // System.Text.Json refuses to decode an unpaired surrogate escape such as \udc00.
                problem = "a string holds text that is not valid Unicode (an unpaired surrogate escape such as \\udc00).";
            }
            if (problem is not null)
            {
                return ToolResult.Error($"Invalid arguments for {name}: {problem}");
            }
            if (tool.Journaled && context.BeforeRun is { } before)
            {
                await before(tool, cancellationToken);
                context.Journaled = true;
            }
            var arguments = new AIFunctionArguments(document.RootElement.EnumerateObject()
                .ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal))
            {
                Context = new Dictionary<object, object?> { [typeof(ToolCallContext)] = context },
            };
            return await RunAsync(tool, arguments, context, cancellationToken);
        }
    }

    private async Task<ToolResult> RunAsync(RegisteredTool tool, AIFunctionArguments arguments, ToolCallContext context, CancellationToken cancellationToken)
    {
        var timeout = tool.Timeout ?? _callTimeout;
        await using var scope = tool.Scoped ? _services.CreateAsyncScope() : (AsyncServiceScope?)null;
        arguments.Services = scope?.ServiceProvider ?? _services;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        Task<object?> running;
        ToolCallContext.Current = context;
        try
        {
            // A C# tool may block its thread (Thread.Sleep, a synchronous client): on the pool, the timeout still holds.
            running = tool.Scoped
                ? Task.Run(() => tool.Function.InvokeAsync(arguments, limit.Token).AsTask(), limit.Token)
                : tool.Function.InvokeAsync(arguments, limit.Token).AsTask();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Threw(tool, ex);
        }
        finally
        {
            ToolCallContext.Current = null;
        }
        try
        {
            var value = await running.WaitAsync(limit.Token);
            return ToolOutput.From(value, tool.Function.JsonSerializerOptions);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(running);
            throw;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            Observe(running);
            LogTimedOut(tool.Name, context.TaskId, timeout.TotalSeconds);
            return ToolResult.Error(tool.Journaled
                ? $"{tool.Name} did not finish within {timeout.TotalSeconds:0.###} s and was cancelled; whether it took effect is unknown."
                : $"{tool.Name} did not finish within {timeout.TotalSeconds:0.###} s and was cancelled.");
        }
        catch (Exception ex)
        {
            return Threw(tool, ex);
        }
    }

    private ToolResult Threw(RegisteredTool tool, Exception exception)
    {
        LogToolThrew(exception, tool.Name, tool.Source);
        var message = exception is AggregateException { InnerException: { } inner } ? inner.Message : exception.Message;
        return ToolResult.Error($"{tool.Name} failed: {message}");
    }

    /// <summary>A call left running past its timeout is not awaited, but what it throws later must not go unobserved.</summary>
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private static ToolCatalog Catalog(IEnumerable<RegisteredTool> tools)
    {
        var list = tools.ToList();
        return new ToolCatalog([new ToolRegistration(_ => list)], [], EmptyServices.Instance, NullLogger<ToolCatalog>.Instance);
    }

    private static string Cut(string text) => text.Length <= 100 ? text : text[..100] + "...";

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Tool {Tool} ({Source}) threw")]
    private partial void LogToolThrew(Exception exception, string tool, string source);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Tool {Tool} of task {TaskId} did not finish within {Seconds} s: cancelled")]
    private partial void LogTimedOut(string tool, long taskId, double seconds);

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
