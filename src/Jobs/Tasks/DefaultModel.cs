namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The model for tasks that name none (<c>Llm:Model</c>) as this process is configured, to show a task's model before
/// it has run. Once a task runs, the model it ran on is stored with it and shown instead. Registered by
/// <c>AddAgentTasks</c>; public for the dashboard package, whose task list shows and filters by it.
/// </summary>
/// <param name="Name">The model's name, or null when none is configured.</param>
public sealed record DefaultModel(string? Name);
