namespace AgentWorker.Jobs.Tasks;

/// <summary>A stored step as a resumed run reads it: its kind and the conversation items it added.</summary>
internal sealed record CheckpointStep(int Seq, string Kind, string Items);

/// <summary>
/// A journaled call (a tool with side effects) that was started and has no stored output: the worker stopped while it
/// ran. <paramref name="Resolution"/> is the operator's word on it (<c>agent.retry(..., in_doubt => 'rerun' | 'skip')</c>).
/// </summary>
internal sealed record OpenCall(string CallId, string ToolName, string IdempotencyKey, bool Idempotent, string? Resolution);

/// <summary>What a resumed run starts from: the stored steps in order, and the calls left in doubt.</summary>
internal sealed record Checkpoint(IReadOnlyList<CheckpointStep> Steps, IReadOnlyList<OpenCall> OpenCalls)
{
    public static readonly Checkpoint Empty = new([], []);
}

/// <summary>A journaled call, recorded as started just before the tool runs.</summary>
internal sealed record CallStart(long TaskId, int Attempt, string CallId, string ToolName, string IdempotencyKey, bool Idempotent);
