using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Jobs.Llm;

/// <summary>Registration of the model port's <see cref="IChatClient"/> implementation, for the worker's builder.</summary>
internal static class ChatClientModelServiceCollectionExtensions
{
    /// <summary>
    /// Runs the turns of tasks on <paramref name="model"/> through the <see cref="IChatClient"/> that
    /// <paramref name="factory"/> makes (once, as a singleton keyed by the model's name): the whole conversation each turn,
    /// nothing chained. <c>Llm:Models:&lt;model&gt;:Client=Responses</c> in configuration still sends them to the
    /// Responses client.
    /// </summary>
    internal static IServiceCollection AddChatClientModel(
        this IServiceCollection services, string model, Func<IServiceProvider, IChatClient> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(factory);
        services.AddKeyedSingleton(model, (sp, _) => factory(sp));
        return services;
    }
}
