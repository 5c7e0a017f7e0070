namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Declares, on a method registered as a tool (or on its class, for every method), what a call does to the world and
/// how long it may take. A method without it has <see cref="ToolSideEffects.SideEffects"/>, or what its registration says.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public sealed class ToolEffectsAttribute(ToolSideEffects sideEffects) : Attribute
{
    public ToolSideEffects SideEffects { get; } = sideEffects;

    /// <summary>Longest a call may take, in seconds; 0 (the default) means <c>Tools:CallTimeout</c>.</summary>
    public double TimeoutSeconds { get; set; }
}
