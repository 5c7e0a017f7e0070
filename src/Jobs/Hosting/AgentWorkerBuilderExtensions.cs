using AgentWorker.Jobs.Llm;
using Microsoft.Extensions.AI;

namespace AgentWorker;

/// <summary>What a host adds to the worker on its builder (<c>services.AddAgentWorker(configuration, worker => ...)</c>).</summary>
public static class AgentWorkerBuilderExtensions
{
    /// <summary>
    /// Runs the turns of tasks on <paramref name="model"/> (a task's <c>model</c>, or <c>Llm:Model</c> for tasks that name
    /// none) through an <see cref="IChatClient"/>: any provider Microsoft.Extensions.AI has a client for. Each turn sends the
    /// whole conversation (nothing is chained, unlike the Responses WebSocket); tool calls, results and usage are stored as
    /// for every model. The client is made once, when first needed. <c>Llm__Models__&lt;model&gt;__Client=Responses</c>
    /// sends the model back to the Responses client without a code change.
    /// </summary>
    public static IAgentWorkerBuilder AddChatClient(this IAgentWorkerBuilder builder, string model, Func<IServiceProvider, IChatClient> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.AddChatClientModel(model, factory);
        return builder;
    }

    /// <inheritdoc cref="AddChatClient(IAgentWorkerBuilder, string, Func{IServiceProvider, IChatClient})"/>
    public static IAgentWorkerBuilder AddChatClient(this IAgentWorkerBuilder builder, string model, IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return builder.AddChatClient(model, _ => client);
    }
}
