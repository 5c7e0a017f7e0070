namespace AgentWorker.Jobs.Tools;

/// <summary>
/// What calling a tool does to the world, which decides what a resumed run may do with a call that was started and
/// never finished (the worker stopped mid-call). The default, for any tool that says nothing, is
/// <see cref="SideEffects"/>: the safe choice.
/// </summary>
public enum ToolSideEffects
{
    /// <summary>
    /// The call changes something outside the worker (a refund, a ticket, an email). It is journaled: started before
    /// the call, finished with its output. A finished call is never run again; one started and never finished is
    /// "in doubt" and the task stops as failed with <c>tool_in_doubt</c> until an operator decides.
    /// </summary>
    SideEffects = 0,

    /// <summary>The call changes nothing (the database tools): a resumed run simply runs it again.</summary>
    ReadOnly = 1,

    /// <summary>
    /// The call has side effects, but a second call with the same <see cref="ToolCallContext.IdempotencyKey"/> has none
    /// (the tool passes the key on, such as an Idempotency-Key header, or records it under a unique constraint). It is
    /// journaled like <see cref="SideEffects"/>; a call in doubt is run again with the same key.
    /// </summary>
    Idempotent = 2,
}
