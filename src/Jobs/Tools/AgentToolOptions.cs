namespace AgentWorker.Jobs.Tools;

/// <summary>How the worker treats one registered tool.</summary>
public sealed class AgentToolOptions
{
    /// <summary>What a call does to the world. Default <see cref="ToolSideEffects.SideEffects"/>.</summary>
    public ToolSideEffects SideEffects { get; set; } = ToolSideEffects.SideEffects;

    /// <summary>
    /// Longest a call may take; past it the call is cancelled and the model gets a tool error (for a tool with side
    /// effects: that the effect is unknown). Default: <c>Tools:CallTimeout</c>.
    /// </summary>
    public TimeSpan? Timeout { get; set; }
}
