using System.Text.RegularExpressions;
using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentWorker.Jobs.Agent;

/// <inheritdoc />
internal sealed partial class AgentClient([FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource) : IAgentClient
{
    private const string Columns = """
        select name, instructions, model, tools, max_steps as MaxSteps, deadline_after as DeadlineAfter, source,
               created_at as CreatedAt, updated_at as UpdatedAt
          from agent.agents
        """;

    /// <summary>Writes an agent; <c>@source</c> is <c>sql</c>, or <c>config</c> for the start-up sync.</summary>
    internal const string UpsertSql = """
        select agent.upsert_agent(name => @name, instructions => @Instructions, model => @Model, tools => @tools,
            max_steps => @MaxSteps, deadline_after => @DeadlineAfter, source => @source)
        """;

    public async Task<IReadOnlyList<AgentDetails>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<AgentDetails>(new CommandDefinition(
            Columns + " order by name", cancellationToken: cancellationToken))).AsList();
    }

    public async Task<AgentDetails?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<AgentDetails>(new CommandDefinition(
            Columns + " where name = @name", new { name }, cancellationToken: cancellationToken));
    }

    public async Task<AgentUpsertOutcome> UpsertAsync(string name, AgentDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        RequireStorable(name, definition);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var outcome = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                UpsertSql, Parameters(name, definition, "sql"), cancellationToken: cancellationToken));
            return outcome switch
            {
                "created" => AgentUpsertOutcome.Created,
                "updated" => AgentUpsertOutcome.Updated,
                "unchanged" => AgentUpsertOutcome.Unchanged,
                _ => throw new InvalidOperationException($"agent.upsert_agent returned '{outcome}'"),
            };
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            return AgentUpsertOutcome.DefinedInConfiguration;
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidParameterValue)
        {
            throw new TaskValidationException(ex.MessageText, ex, FieldNamed(ex.MessageText));
        }
    }

    public async Task<AgentDeleteOutcome> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select agent.delete_agent(@name)", new { name }, cancellationToken: cancellationToken))
                ? AgentDeleteOutcome.Deleted
                : AgentDeleteOutcome.NotFound;
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            return AgentDeleteOutcome.DefinedInConfiguration;
        }
    }

    /// <summary>The parameters of <see cref="UpsertSql"/>.</summary>
    internal static object Parameters(string name, AgentDefinition definition, string source) => new
    {
        name, definition.Instructions, definition.Model, tools = definition.Tools?.ToArray(), definition.MaxSteps,
        definition.DeadlineAfter, source,
    };

    /// <summary>Text PostgreSQL cannot store is refused naming the field, as for tasks.</summary>
    internal static void RequireStorable(string name, AgentDefinition definition)
    {
        TaskClient.RequireStorable("name", name);
        TaskClient.RequireStorable("instructions", definition.Instructions);
        TaskClient.RequireStorable("model", definition.Model);
        foreach (var tool in definition.Tools ?? [])
        {
            TaskClient.RequireStorable("tools", tool);
        }
    }

    /// <summary>The field an <c>agent.upsert_agent</c> refusal names ("agent.upsert_agent: max_steps must be ...").</summary>
    internal static string? FieldNamed(string message) =>
        NamedField().Match(message) is { Success: true } match ? match.Groups[1].Value : null;

    [GeneratedRegex(@"^agent\.upsert_agent: (name|instructions|model|tools|max_steps|deadline_after|source)\b")]
    private static partial Regex NamedField();
}
