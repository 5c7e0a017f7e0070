using AgentWorker.Jobs.Agent;

namespace AgentWorker.Dashboard;

/// <summary>The body of <c>PUT /api/agents/{name}</c>: every part optional.</summary>
/// <param name="Instructions">System instructions (at most 200,000 characters); the worker's default when absent.</param>
/// <param name="Model">Model name; the worker's Llm:Model when absent.</param>
/// <param name="Tools">Tool names or "server__*" patterns (every tool of an MCP server); absent or empty: the database tools.</param>
/// <param name="MaxSteps">Model turns allowed, 1 to 200; absent: 20.</param>
/// <param name="DeadlineAfter">Each task must end within this of its start ("00:10:00"), or fail with "deadline".</param>
internal sealed record AgentBody(
    string? Instructions = null,
    string? Model = null,
    IReadOnlyList<string>? Tools = null,
    int? MaxSteps = null,
    TimeSpan? DeadlineAfter = null)
{
    internal AgentDefinition ToDefinition() => new()
    {
        Instructions = Instructions,
        Model = Model,
        Tools = Tools,
        MaxSteps = MaxSteps,
        DeadlineAfter = DeadlineAfter,
    };
}
