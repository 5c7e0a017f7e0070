namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The operator's word on the calls a task left in doubt (<c>tool_in_doubt</c>): the worker stopped while a tool with
/// side effects ran, so whether the call took effect is unknown.
/// </summary>
public enum InDoubtDecision
{
    /// <summary>Call the tool again (it did not take effect, or a second call is harmless): <c>in_doubt => 'rerun'</c>.</summary>
    Rerun,

    /// <summary>Do not call it again; the model is told it was skipped and that its effect is unknown: <c>in_doubt => 'skip'</c>.</summary>
    Skip,
}
