namespace AgentWorker.Jobs.Tasks;

/// <summary>The values of <c>agent.steps.kind</c> and <c>agent.steps.transport</c>.</summary>
public static class StepKinds
{
    public const string Model = "model";
    public const string Tool = "tool";

    /// <summary>A model step that went over a (pooled) WebSocket.</summary>
    public const string WebSocketTransport = "ws";

    /// <summary>A model step that went as one HTTP request with an SSE answer.</summary>
    public const string HttpTransport = "http";
}
