using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Dashboard;

/// <summary>
/// Named agents over REST: <c>/api/agents</c> (list, read, create or replace, delete). Same rules as
/// <c>agent.upsert_agent</c> and <c>agent.delete_agent</c>; an agent defined in the workers' configuration is read-only
/// here (409).
/// </summary>
internal static class AgentApi
{
    public static void MapNamedAgentApi(this IEndpointRouteBuilder endpoints)
    {
        var agents = endpoints.MapGroup("/api/agents").WithTags("Agents");
        agents.MapGet("/", ListAsync)
            .WithName("ListAgents")
            .WithSummary("Every named agent, by name")
            .Produces<IReadOnlyList<AgentDetails>>();
        agents.MapGet("/{name}", GetAsync)
            .WithName("GetAgent")
            .WithSummary("A named agent")
            .Produces<AgentDetails>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        agents.MapPut("/{name}", PutAsync)
            .WithName("PutAgent")
            .WithSummary("Create or replace a named agent")
            .WithDescription("201: created. 200: replaced (or unchanged). Tasks already enqueued keep what they were given. 409: the workers' configuration defines it (Agents__<name>__...); change it there.")
            .Accepts<AgentBody>("application/json")
            .Produces<AgentDetails>(StatusCodes.Status201Created)
            .Produces<AgentDetails>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        agents.MapDelete("/{name}", DeleteAsync)
            .WithName("DeleteAgent")
            .WithSummary("Delete a named agent (tasks enqueued with it keep what they were given and still run)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> ListAsync(IAgentClient agents, CancellationToken cancellationToken) =>
        Results.Json(await agents.ListAsync(cancellationToken), TaskApi.Json);

    private static async Task<IResult> GetAsync(string name, IAgentClient agents, CancellationToken cancellationToken) =>
        await agents.GetAsync(name, cancellationToken) is { } agent ? Results.Json(agent, TaskApi.Json) : NotFound(name);

    private static async Task<IResult> PutAsync(string name, HttpRequest request, IAgentClient agents, CancellationToken cancellationToken)
    {
        var body = await TaskApiBody.ReadAsync<AgentBody>(request, optional: false, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        AgentUpsertOutcome outcome;
        try
        {
            outcome = await agents.UpsertAsync(name, body.Value!.ToDefinition(), cancellationToken);
        }
        catch (TaskValidationException ex)
        {
            return TaskApiBody.Invalid("Invalid agent", ex.Message);
        }
        if (outcome == AgentUpsertOutcome.DefinedInConfiguration)
        {
            return InConfiguration(name, "change it there");
        }
        var stored = await agents.GetAsync(name, cancellationToken);
        return Results.Json(stored, TaskApi.Json, statusCode: outcome == AgentUpsertOutcome.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> DeleteAsync(string name, IAgentClient agents, CancellationToken cancellationToken) =>
        await agents.DeleteAsync(name, cancellationToken) switch
        {
            AgentDeleteOutcome.Deleted => Results.NoContent(),
            AgentDeleteOutcome.NotFound => NotFound(name),
            _ => InConfiguration(name, "remove it there"),
        };

    private static IResult InConfiguration(string name, string what) =>
        Results.Problem(title: "Agent defined in configuration",
            detail: $"Agent \"{name}\" is defined in the workers' configuration (Agents__{name}__...); {what}.",
            statusCode: StatusCodes.Status409Conflict);

    private static IResult NotFound(string name) =>
        Results.Problem(title: "Agent not found", detail: $"There is no agent named \"{name}\".", statusCode: StatusCodes.Status404NotFound);
}
