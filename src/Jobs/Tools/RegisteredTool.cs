using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// One tool the worker can offer: an <see cref="AIFunction"/> (a database tool, a C# function, an MCP server's tool)
/// with what the worker needs to run it safely. Made by <see cref="RegisteredTool.Create"/>, which settles the schema
/// once: what is checked before a call, what goes on the wire, and whether it can be strict.
/// </summary>
internal sealed class RegisteredTool
{
    private RegisteredTool(AIFunction function, string name, ToolSideEffects sideEffects, TimeSpan? timeout, string source, bool scoped)
    {
        Function = function;
        Name = name;
        SideEffects = sideEffects;
        Timeout = timeout;
        Source = source;
        Scoped = scoped;
        Schema = ToolSchema.Of(function.JsonSchema);
        (WireSchema, Strict, WireNotes) = ToolSchema.ForWire(Schema);
        Check = new ArgumentCheck(Schema);
    }

    /// <summary>The name the model calls it by (for an MCP tool: <c>server__tool</c>).</summary>
    public string Name { get; }

    public string Description => Function.Description;

    public AIFunction Function { get; }

    public ToolSideEffects SideEffects { get; }

    /// <summary>Whether a call is journaled (started, then finished) so that a resume never repeats it blindly.</summary>
    public bool Journaled => SideEffects != ToolSideEffects.ReadOnly;

    /// <summary>The tool's own timeout; null: <c>Tools:CallTimeout</c>.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>Where it comes from: <c>database</c>, <c>csharp</c>, or <c>mcp:{server}</c> (span tags, the workers page).</summary>
    public string Source { get; }

    /// <summary>Whether each call gets its own DI scope (C# tools resolved from the container).</summary>
    public bool Scoped { get; }

    /// <summary>The schema of the arguments, whole: what a call is checked against.</summary>
    public JsonObject Schema { get; }

    /// <summary>The schema as sent: cut to the strict subset when <see cref="Strict"/>, else as the tool gave it.</summary>
    public JsonObject WireSchema { get; }

    /// <summary>Whether the schema is sent with <c>strict: true</c> (it fits the subset: every object closed and fully required).</summary>
    public bool Strict { get; }

    /// <summary>Why the schema is not strict, or what was cut from it for the wire (logged once at start); null when nothing.</summary>
    public string? WireNotes { get; }

    public ArgumentCheck Check { get; }

    public static RegisteredTool Create(AIFunction function, string? name, ToolSideEffects sideEffects, TimeSpan? timeout, string source, bool scoped)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new(function, name ?? function.Name, sideEffects, timeout, source, scoped);
    }
}
