using AgentWorker.Jobs.Llm;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Llm;

/// <summary>Which implementation of the model port runs a model's turns: configuration, then a registered IChatClient, then Responses.</summary>
public sealed class ModelRouterTests
{
    private static ServiceProvider Worker(Dictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:App"] = "Host=127.0.0.1;Port=1;Database=none;Username=none",
            ["Llm:Model"] = "sim-1",
        }.Concat(settings)).Build();
        var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)).AddSingleton<IConfiguration>(config);
        services.AddAgentWorker(config);
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }

    private static string Provider(ServiceProvider services, string model) =>
        services.GetRequiredService<IModelPort>().OpenConversation(model, 1).Endpoint.ProviderName;

    [Fact]
    public async Task OpenConversation_ModelWithARegisteredChatClient_UsesIt_OthersUseResponses()
    {
        await using var services = Worker([], s => s.AddChatClientModel("chat-1", _ => new FakeChatClient()));

        Assert.Equal("fake", Provider(services, "chat-1"));
        Assert.Equal("openai", Provider(services, "sim-1"));
        Assert.Equal("openai", Provider(services, "never-configured"));
    }

    [Fact]
    public async Task OpenConversation_ConfiguredResponses_WinsOverARegisteredChatClient()
    {
        await using var services = Worker(new() { ["Llm:Models:chat-1:Client"] = "Responses" }, s => s.AddChatClientModel("chat-1", _ => new FakeChatClient()));

        Assert.Equal("openai", Provider(services, "chat-1"));
    }

    [Fact]
    public async Task OpenConversation_ConfiguredChatClient_UsesTheKeyedChatClientTheHostRegistered()
    {
        await using var services = Worker(new() { ["Llm:Models:claude:Client"] = "ChatClient" },
            s => s.AddKeyedSingleton<IChatClient>("claude", (_, _) => new FakeChatClient()));

        Assert.Equal("fake", Provider(services, "claude"));
    }

    [Fact]
    public async Task Options_ConfiguredChatClientWithoutOne_FailAtStart_NamingTheKey()
    {
        await using var services = Worker(new() { ["Llm:Models:claude:Client"] = "ChatClient" });

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LlmOptions>>().Value);
        Assert.Contains("Llm:Models:claude:Client", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_UnknownClient_FailsNamingTheKey()
    {
        await using var services = Worker(new() { ["Llm:Models:claude:Client"] = "Grpc" });

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LlmOptions>>().Value);
        Assert.Contains("Llm:Models:claude: Client must be Responses or ChatClient", failure.Message, StringComparison.Ordinal);
    }

    private sealed class FakeChatClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("fake") : null;

        public void Dispose()
        {
        }
    }
}
