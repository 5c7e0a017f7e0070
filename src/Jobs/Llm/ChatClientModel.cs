using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The model port over any M.E.AI <see cref="IChatClient"/>, for one model: each turn sends the whole conversation
/// (nothing is chained: a chat client keeps no server-side cursor the worker could rely on), the tools as
/// <see cref="AIFunctionDeclaration"/>s, and maps the answer back; the loop runs the calls. Rate limits and transient
/// failures are retried like the Responses client's (<see cref="TurnRetries"/>).
/// </summary>
internal sealed class ChatClientModel : IModelPort
{
    private readonly string _model;
    private readonly IChatClient _client;
    private readonly TurnRetries _retries;

    public ChatClientModel(string model, IChatClient client, TurnRetries retries)
    {
        ArgumentNullException.ThrowIfNull(client);
        _model = model;
        _client = client;
        _retries = retries;
        var metadata = client.GetService<ChatClientMetadata>();
        Endpoint = new ModelEndpoint(metadata?.ProviderName ?? "unknown", metadata?.ProviderUri);
    }

    internal ModelEndpoint Endpoint { get; }

    public IModelConversation OpenConversation(string model, long taskId) => new ChatClientConversation(this, _model, _client, _retries);
}
