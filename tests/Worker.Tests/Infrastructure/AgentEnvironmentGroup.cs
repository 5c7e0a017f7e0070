namespace AgentWorker.Tests.Infrastructure;

/// <summary>Test classes that start a worker host: never in parallel, since Hangfire's configuration is static.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AgentEnvironmentGroup
{
    public const string Name = "agent environment";
}
