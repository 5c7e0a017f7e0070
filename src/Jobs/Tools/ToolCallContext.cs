using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The call a tool is running in: which task, which of the model's calls, and the idempotency key to pass on to
/// whatever the tool changes. A tool reads it from <see cref="AIFunctionArguments.Context"/> (<see cref="From"/>), from
/// <see cref="Current"/>, or as a parameter of type <see cref="ToolCallContext"/> of a method registered with the worker
/// builder.
/// </summary>
public sealed class ToolCallContext
{
    private static readonly AsyncLocal<ToolCallContext?> s_current = new();

    internal ToolCallContext(long taskId, int attempt, string callId, string toolName, string? agent)
    {
        TaskId = taskId;
        Attempt = attempt;
        CallId = callId;
        ToolName = toolName;
        Agent = agent;
        IdempotencyKey = KeyOf(taskId, callId);
    }

    /// <summary>The task (<c>agent.tasks.id</c>).</summary>
    public long TaskId { get; }

    /// <summary>The task's attempt running the call (1 for the first run).</summary>
    public int Attempt { get; }

    /// <summary>The model's <c>call_id</c> for this call: stored with the turn, so the same on every resume.</summary>
    public string CallId { get; }

    /// <summary>The tool's name as the model called it.</summary>
    public string ToolName { get; }

    /// <summary>The named agent the task runs as, if any.</summary>
    public string? Agent { get; }

    /// <summary>
    /// <c>agentworker:{task id}:{call id}</c>: stable across retries, take-overs and restarts of the same task, and
    /// distinct for every call. Pass it to the system the tool changes (an Idempotency-Key header, a unique column).
    /// </summary>
    public string IdempotencyKey { get; }

    /// <summary>The call running on this async flow, or null outside a tool call.</summary>
    public static ToolCallContext? Current
    {
        get => s_current.Value;
        internal set => s_current.Value = value;
    }

    /// <summary>The context the worker put in <paramref name="arguments"/>, or null when the function was called otherwise.</summary>
    public static ToolCallContext? From(AIFunctionArguments arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        return arguments.Context is { } context && context.TryGetValue(typeof(ToolCallContext), out var value)
            ? value as ToolCallContext
            : null;
    }

    /// <summary>Called for a tool with side effects after its arguments passed and before it runs (the loop journals the start).</summary>
    internal Func<RegisteredTool, CancellationToken, Task>? BeforeRun { get; init; }

    /// <summary>Whether <see cref="BeforeRun"/> ran: the call is journaled, and its step must mark it finished.</summary>
    internal bool Journaled { get; set; }

    internal static string KeyOf(long taskId, string callId) => $"agentworker:{taskId}:{callId}";
}
