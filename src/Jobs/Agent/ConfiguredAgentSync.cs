using AgentWorker.Jobs.Tasks;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// Writes the configuration's agents into <c>agent.agents</c> at start-up (<c>source = 'config'</c>; an agent of the
/// same name defined by SQL is taken over: the configuration wins), and removes the configuration's agents that are gone
/// from it (tasks enqueued with them keep what they were given). A bad agent fails start-up naming its key. Every worker
/// process does this; the writes are idempotent.
/// </summary>
internal sealed class ConfiguredAgentSync(
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource,
    ConfiguredAgents configured) : IHostedService
{
    private static readonly Dictionary<string, string> s_keys = new(StringComparer.Ordinal)
    {
        ["instructions"] = nameof(AgentDefinition.Instructions),
        ["model"] = nameof(AgentDefinition.Model),
        ["tools"] = nameof(AgentDefinition.Tools),
        ["max_steps"] = nameof(AgentDefinition.MaxSteps),
        ["deadline_after"] = nameof(AgentDefinition.DeadlineAfter),
    };

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        foreach (var (name, definition) in configured.Agents)
        {
            try
            {
                AgentClient.RequireStorable(name, definition);
                await connection.ExecuteAsync(new CommandDefinition(
                    AgentClient.UpsertSql, AgentClient.Parameters(name, definition, "config"), cancellationToken: cancellationToken));
            }
            catch (Exception ex) when (ex is TaskValidationException || ex is PostgresException { SqlState: PostgresErrorCodes.InvalidParameterValue })
            {
                var pg = ex as PostgresException;
                var message = pg?.MessageText ?? ex.Message;
                var field = ex is TaskValidationException validation ? validation.Field : pg?.ColumnName ?? AgentClient.FieldNamed(message);
                var key = field is not null && s_keys.TryGetValue(field, out var setting)
                    ? ConfiguredAgents.Key($"{ConfiguredAgents.SectionName}:{name}:{setting}")
                    : ConfiguredAgents.Key($"{ConfiguredAgents.SectionName}:{name}");
                throw new InvalidOperationException($"{key} is not valid: {message}", ex);
            }
        }
        // An agent taken out of the configuration goes too.
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from agent.agents where source = 'config' and not (name = any(@names))",
            new { names = configured.Agents.Keys.ToArray() }, cancellationToken: cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
