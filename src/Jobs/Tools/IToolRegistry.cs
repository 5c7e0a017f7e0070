namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The tools offered to the model and the way to call them: <see cref="ToolRegistry"/>, wrapped by
/// <see cref="TracedToolRegistry"/> for spans and metrics. Unknown names and malformed arguments come back as tool
/// errors; a call never throws for them.
/// </summary>
internal interface IToolRegistry
{
    /// <summary>Every tool, by name (ordinal order).</summary>
    IReadOnlyList<IAgentTool> Tools { get; }

    /// <summary>Whether a tool of that name exists (a model may call one that does not).</summary>
    bool Knows(string name);

    Task<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken);
}
