namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Tools registered at start (the database tools, the builder's C# tools): read once when the catalog is built, where
/// a bad name or a clash fails start-up.
/// </summary>
internal sealed record ToolRegistration(Func<IServiceProvider, IEnumerable<RegisteredTool>> Create);
