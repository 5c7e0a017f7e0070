namespace AgentWorker.Jobs.Tasks;

/// <summary>An enqueue was refused for bad input; the message names the argument. Nothing was stored.</summary>
public sealed class TaskValidationException(string message, Exception? inner = null) : Exception(message, inner);
