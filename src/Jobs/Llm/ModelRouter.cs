using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Picks, per model, the implementation of the port that runs its turns: <c>Llm:Models:&lt;model&gt;:Client</c> when set,
/// else the <see cref="IChatClient"/> registered under the model's name (keyed service) when there is one, else the
/// Responses client (<see cref="ModelClient"/>). Decided once per model name.
/// </summary>
internal sealed class ModelRouter(ModelClient responses, TurnRetries retries, IServiceProvider services, IOptions<LlmOptions> options)
    : IModelPort
{
    private readonly ConcurrentDictionary<string, IModelPort> _routes = new(StringComparer.Ordinal);
    private readonly IServiceProviderIsKeyedService? _keyed = services.GetService<IServiceProviderIsKeyedService>();

    public IModelConversation OpenConversation(string model, long taskId) =>
        _routes.GetOrAdd(model, Route).OpenConversation(model, taskId);

    private IModelPort Route(string model)
    {
        var configured = options.Value.Models.TryGetValue(model, out var entry) ? entry.ClientKind : null;
        var registered = _keyed?.IsKeyedService(typeof(IChatClient), model) == true;
        switch (configured)
        {
            case ModelClientKind.Responses:
            case null when !registered:
                return responses;
            case ModelClientKind.ChatClient when !registered:
                // Refused at start (ModelClientsValidation); here only for a host that skipped option validation.
                throw new InvalidOperationException(ModelClientsValidation.Unregistered(model));
            default:
                return new ChatClientModel(model, services.GetRequiredKeyedService<IChatClient>(model), retries);
        }
    }
}
