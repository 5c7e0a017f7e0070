using System.ComponentModel;
using System.Reflection;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentWorker;

/// <summary>
/// Tools a host adds on the worker builder, beside the database tools: any Microsoft.Extensions.AI
/// <see cref="AIFunction"/>, a delegate, or the <c>[Description]</c>d methods of a class. Each call runs in its own DI
/// scope, on the thread pool, with the run's cancellation and the tool's timeout; its arguments are checked against
/// its schema first; what it throws goes back to the model as a tool error. A tool has side effects unless it says
/// otherwise (<see cref="AgentToolOptions.SideEffects"/>, <see cref="ToolEffectsAttribute"/>): such a call is journaled
/// and never repeated blindly. A method parameter of type <see cref="ToolCallContext"/> receives the call's context
/// (task, call, idempotency key) and is not part of the schema.
/// </summary>
// RS0026 (one overload with optional parameters): these overloads are new together, and each reads as the others do.
#pragma warning disable RS0026
public static class AgentWorkerToolExtensions
{
    /// <summary>Adds one function as a tool, under its own name.</summary>
    public static IAgentWorkerBuilder AddTool(this IAgentWorkerBuilder builder, AIFunction function, AgentToolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        return builder.AddTool(_ => function, options);
    }

    /// <summary>Adds a function made from the container when the worker starts (for a function that needs services to be made).</summary>
    public static IAgentWorkerBuilder AddTool(this IAgentWorkerBuilder builder, Func<IServiceProvider, AIFunction> factory, AgentToolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        var effects = options?.SideEffects ?? ToolSideEffects.SideEffects;
        var timeout = options?.Timeout;
        builder.Services.AddSingleton(new ToolRegistration(sp =>
        {
            var function = factory(sp) ?? throw new InvalidOperationException("A tool factory returned null.");
            return [RegisteredTool.Create(function, null, effects, timeout, "csharp", scoped: true)];
        }));
        return builder;
    }

    /// <summary>
    /// Adds a delegate as a tool (<see cref="AIFunctionFactory"/> makes its schema from the parameters). Its name and
    /// description default to the method's and its <c>[Description]</c>; a <see cref="ToolEffectsAttribute"/> on the
    /// method wins over <paramref name="options"/>.
    /// </summary>
    public static IAgentWorkerBuilder AddTool(this IAgentWorkerBuilder builder, Delegate method, string? name = null,
        string? description = null, AgentToolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(method);
        var function = AIFunctionFactory.Create(method, FactoryOptions(name, description));
        var declared = method.Method.GetCustomAttribute<ToolEffectsAttribute>();
        return builder.AddTool(function, Effective(declared, options));
    }

    /// <summary>
    /// Adds every public method of <typeparamref name="T"/> that has a <c>[Description]</c> as a tool. <typeparamref name="T"/>
    /// is resolved from the call's own DI scope (registered as scoped here unless it is registered already), so it
    /// can take scoped services such as a DbContext. <see cref="ToolEffectsAttribute"/> on a method or on the class
    /// wins over <paramref name="options"/>.
    /// </summary>
    public static IAgentWorkerBuilder AddTools<T>(this IAgentWorkerBuilder builder, AgentToolOptions? options = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var methods = typeof(T).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.GetCustomAttribute<DescriptionAttribute>() is not null && !m.IsSpecialName)
            .ToList();
        if (methods.Count == 0)
        {
            throw new ArgumentException($"{typeof(T).Name} has no public method with a [Description] attribute: there is no tool to add.", nameof(T));
        }
        builder.Services.TryAddScoped<T>();
        var classEffects = typeof(T).GetCustomAttribute<ToolEffectsAttribute>();
        foreach (var method in methods)
        {
            var function = method.IsStatic
                ? AIFunctionFactory.Create(method, (object?)null, FactoryOptions(null, null))
                : AIFunctionFactory.Create(method, static args => (args.Services ?? throw new InvalidOperationException("No services for the tool call."))
                    .GetRequiredService<T>(), FactoryOptions(null, null));
            builder.AddTool(function, Effective(method.GetCustomAttribute<ToolEffectsAttribute>() ?? classEffects, options));
        }
        return builder;
    }

    private static AgentToolOptions? Effective(ToolEffectsAttribute? declared, AgentToolOptions? options) => declared is null
        ? options
        : new AgentToolOptions
        {
            SideEffects = declared.SideEffects,
            Timeout = declared.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(declared.TimeoutSeconds) : options?.Timeout,
        };

    /// <summary>A <see cref="ToolCallContext"/> parameter is bound from the call, not from the model's arguments.</summary>
    private static AIFunctionFactoryOptions FactoryOptions(string? name, string? description) => new()
    {
        Name = name,
        Description = description,
        ConfigureParameterBinding = parameter => parameter.ParameterType == typeof(ToolCallContext)
            ? new AIFunctionFactoryOptions.ParameterBindingOptions
            {
                ExcludeFromSchema = true,
                BindParameter = static (_, arguments) => ToolCallContext.From(arguments),
            }
            : default,
    };
}
#pragma warning restore RS0026
