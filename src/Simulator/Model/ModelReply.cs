namespace AgentWorker.Simulator.Model;

/// <summary>What the scripted model says in one turn: function calls, or a text answer.</summary>
public sealed record ModelReply(IReadOnlyList<FunctionCall> Calls, string? Text)
{
    public static ModelReply Answer(string text) => new([], text);

    public static ModelReply Call(string name, string arguments) => new([new FunctionCall(name, arguments)], null);
}

/// <summary>One function call: the tool name and its arguments as a JSON string.</summary>
public sealed record FunctionCall(string Name, string Arguments);
