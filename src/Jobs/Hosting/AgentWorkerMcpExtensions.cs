using AgentWorker.Jobs.Tools;
using AgentWorker.Jobs.Tools.Mcp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentWorker;

/// <summary>
/// MCP servers whose tools the worker offers as <c>{server}__{tool}</c>, beside those configured under
/// <c>Tools:Mcp:{server}</c> (which <c>AddAgentWorker</c> adds itself). A name both configured and added here is one
/// server: the configuration is applied first, then these options.
/// </summary>
public static class AgentWorkerMcpExtensions
{
    /// <summary>Adds the MCP server <paramref name="name"/> (a stdio <see cref="McpServerOptions.Command"/> or an HTTP <see cref="McpServerOptions.Url"/>).</summary>
    public static IAgentWorkerBuilder AddMcpServer(this IAgentWorkerBuilder builder, string name, McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        if (McpServerValidation.NameProblem(name ?? "") is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }
        AddServer(builder.Services, name!, o => Copy(options, o));
        return builder;
    }

    /// <summary>Every server of <c>Tools:Mcp</c> (called by <c>AddAgentWorker</c>), and what every worker needs for MCP servers, once.</summary>
    internal static void AddConfiguredMcpServers(IServiceCollection services, IConfiguration configuration)
    {
        foreach (var server in configuration.GetSection($"{ToolsOptions.SectionName}:Mcp").GetChildren())
        {
            AddServer(services, server.Key, null, server);
        }
        _ = Names(services);
        services.TryAddSingleton<McpServers>();
    }

    private static void AddServer(IServiceCollection services, string name, Action<McpServerOptions>? configure, IConfigurationSection? section = null)
    {
        var names = Names(services);
        var options = services.AddOptions<McpServerOptions>(name);
        if (section is not null)
        {
            options.Bind(section);
        }
        if (configure is not null)
        {
            // After the configuration's binding, whichever was registered first: the builder's options win.
            options.PostConfigure(configure);
        }
        if (names.Add(name))
        {
            options.ValidateOnStart();
            services.AddSingleton<IToolSource>(sp => sp.GetRequiredService<McpServers>().Get(name));
        }
    }

    private static McpServerNames Names(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(McpServerNames))?.ImplementationInstance is McpServerNames names)
        {
            return names;
        }
        names = new McpServerNames();
        services.AddSingleton(names);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<McpServerOptions>, McpServerValidation>());
        return names;
    }

    private static void Copy(McpServerOptions from, McpServerOptions to)
    {
        to.Command = from.Command ?? to.Command;
        to.Url = from.Url ?? to.Url;
        to.WorkingDirectory = from.WorkingDirectory ?? to.WorkingDirectory;
        to.SideEffects = from.SideEffects ?? to.SideEffects;
        to.CallTimeout = from.CallTimeout ?? to.CallTimeout;
        to.StartTimeout = from.StartTimeout;
        to.MaxReconnectDelay = from.MaxReconnectDelay;
        if (from.Arguments.Count > 0)
        {
            to.Arguments.Clear();
            foreach (var argument in from.Arguments)
            {
                to.Arguments.Add(argument);
            }
        }
        foreach (var (key, value) in from.Environment)
        {
            to.Environment[key] = value;
        }
        foreach (var (key, value) in from.Headers)
        {
            to.Headers[key] = value;
        }
    }
}
