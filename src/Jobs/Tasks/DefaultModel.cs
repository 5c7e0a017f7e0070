namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The model for tasks that name none (<c>Llm:Model</c>) as this process is configured, to show a task's model before
/// it has run. Once a task runs, the model it ran on is stored with it and shown instead.
/// </summary>
internal sealed record DefaultModel(string? Name);
