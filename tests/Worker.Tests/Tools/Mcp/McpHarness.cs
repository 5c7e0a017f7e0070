using System.Diagnostics;
using AgentWorker.Jobs.Tools;
using AgentWorker.Jobs.Tools.Mcp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Tools.Mcp;

/// <summary>
/// MCP servers wired as the worker wires them (configuration and <c>AddMcpServer</c>, the catalog, the registry),
/// without the rest of the worker: real server processes and sockets, no database.
/// </summary>
public sealed class McpHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private McpHarness(ServiceProvider services)
    {
        _services = services;
        Servers = services.GetRequiredService<McpServers>();
        Registry = services.GetRequiredService<ToolRegistry>();
        Catalog = services.GetRequiredService<ToolCatalog>();
    }

    internal McpServers Servers { get; }

    internal ToolRegistry Registry { get; }

    internal ToolCatalog Catalog { get; }

    /// <summary>How long the start took (bounded by each server's StartTimeout).</summary>
    public TimeSpan StartedIn { get; private set; }

    public static async Task<McpHarness> StartAsync(IDictionary<string, string?>? configuration = null,
        IEnumerable<(string Name, McpServerOptions Options)>? added = null, TimeSpan? callTimeout = null)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(configuration ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        var builder = new AgentWorkerBuilder(services, config, []);
        foreach (var (name, options) in added ?? [])
        {
            builder.AddMcpServer(name, options);
        }
        AgentWorkerMcpExtensions.AddConfiguredMcpServers(services, config);
        services.AddOptions<ToolsOptions>().Configure(o => o.CallTimeout = callTimeout ?? TimeSpan.FromSeconds(60));
        services.AddSingleton<ToolCatalog>();
        services.AddSingleton<ToolRegistry>();
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        // As ValidateOnStart does in a host: every server's options checked before anything starts, all failures at once.
        var failures = new List<string>();
        foreach (var name in provider.GetRequiredService<McpServerNames>().All)
        {
            try
            {
                _ = provider.GetRequiredService<IOptionsMonitor<McpServerOptions>>().Get(name);
            }
            catch (OptionsValidationException ex)
            {
                failures.AddRange(ex.Failures);
            }
        }
        if (failures.Count > 0)
        {
            await provider.DisposeAsync();
            throw new OptionsValidationException("Tools:Mcp", typeof(McpServerOptions), failures);
        }
        var harness = new McpHarness(provider);
        var watch = Stopwatch.StartNew();
        await harness.Servers.StartAsync(TestContext.Current.CancellationToken);
        harness.StartedIn = watch.Elapsed;
        return harness;
    }

    /// <summary>Configuration keys of the test server over stdio under <c>Tools:Mcp:{name}</c>.</summary>
    public static Dictionary<string, string?> StdioConfiguration(string name) => new()
    {
        [$"Tools:Mcp:{name}:Command"] = "dotnet",
        [$"Tools:Mcp:{name}:Arguments:0"] = McpTestServerProcess.Dll,
    };

    internal Task<ToolResult> CallAsync(string tool, string arguments = "{}") =>
        Registry.InvokeAsync(new ToolCall("call_" + Guid.NewGuid().ToString("N")[..8], tool, arguments), TestContext.Current.CancellationToken);

    internal Task<ToolResult> CallAsync(ToolSelection selection, string tool, string arguments = "{}")
    {
        var call = new ToolCall("call_" + Guid.NewGuid().ToString("N")[..8], tool, arguments);
        return Registry.InvokeAsync(selection, call, new ToolCallContext(1, 1, call.CallId, tool, null), TestContext.Current.CancellationToken);
    }

    /// <summary>Waits (polling, real time: a real process restarts) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = Stopwatch.StartNew();
        while (!condition())
        {
            if (limit.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("Not within the time: " + what);
            }
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Servers.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }
}
