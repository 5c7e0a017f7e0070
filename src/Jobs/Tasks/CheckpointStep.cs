namespace AgentWorker.Jobs.Tasks;

/// <summary>A stored step as a resumed run reads it: its kind and the conversation items it added.</summary>
internal sealed record CheckpointStep(int Seq, string Kind, string Items);
