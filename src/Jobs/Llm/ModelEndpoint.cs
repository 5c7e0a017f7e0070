namespace AgentWorker.Jobs.Llm;

/// <summary>The provider (OpenTelemetry's <c>gen_ai.provider.name</c>) and server a conversation talks to.</summary>
internal sealed record ModelEndpoint(string ProviderName, Uri? Address);
