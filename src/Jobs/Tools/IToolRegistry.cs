namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The tools offered to the model and the way to call them: <see cref="ToolRegistry"/>, wrapped by
/// <see cref="TracedToolRegistry"/> for spans and metrics. Unknown names, malformed arguments, a tool that throws or
/// runs past its timeout all come back as tool errors; a call never throws for them.
/// </summary>
internal interface IToolRegistry
{
    /// <summary>The tools a task may use (its tool list, or the database tools when it has none), as they are now.</summary>
    ToolSelection Select(IReadOnlyList<string>? patterns);

    /// <summary>Runs one call, if the tool is in <paramref name="selection"/>. Throws only when <paramref name="cancellationToken"/> is cancelled.</summary>
    Task<ToolResult> InvokeAsync(ToolSelection selection, ToolCall call, ToolCallContext context, CancellationToken cancellationToken);
}
