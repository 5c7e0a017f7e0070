namespace AgentWorker.Jobs.Tools;

/// <summary>One call the model asked for: its id, the tool's name and the arguments as JSON text, as the model wrote them.</summary>
internal sealed record ToolCall(string CallId, string Name, string Arguments);
