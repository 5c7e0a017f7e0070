using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// At start: every model configured with <c>Client=ChatClient</c> has an <see cref="IChatClient"/> registered under its
/// name, or the worker refuses to start, naming the key.
/// </summary>
internal sealed class ModelClientsValidation(IServiceProvider services) : IValidateOptions<LlmOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keyed = services.GetService<IServiceProviderIsKeyedService>();
        var problems = options.Models
            .Where(m => m.Value.ClientKind == ModelClientKind.ChatClient && keyed?.IsKeyedService(typeof(IChatClient), m.Key) != true)
            .Select(m => Unregistered(m.Key))
            .ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    internal static string Unregistered(string model) =>
        $"Llm:Models:{model}:Client (environment Llm__Models__{model}__Client) is ChatClient, but no IChatClient is registered "
        + $"for the model \"{model}\": register one under that name (a keyed service, e.g. AddKeyedChatClient(\"{model}\", …)), "
        + "or set Client to Responses.";
}
