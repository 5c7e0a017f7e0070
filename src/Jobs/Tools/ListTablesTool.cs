using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;

namespace AgentWorker.Jobs.Tools;

/// <summary><c>list_tables</c>: tables and views of the allowed schemas that the reader may select, with row estimates.</summary>
internal sealed class ListTablesTool(ReadOnlySql sql, TargetDatabase target) : IAgentTool
{
    private const string ListSql = """
        select n.nspname as schema, c.relname as name,
               case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'f' then 'foreign table' else 'table' end as kind,
               greatest(c.reltuples, 0)::bigint as row_estimate
          from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = any(@schemas)
           and c.relkind in ('r', 'p', 'v', 'm', 'f')
           and has_table_privilege(c.oid, 'SELECT')
         order by 1, 2
        """;

    public string Name => "list_tables";

    public string Description => "Lists the tables and views you may query, with their schema, kind and estimated row count.";

    public JsonObject Parameters { get; } = new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject(),
        ["required"] = new JsonArray(),
        ["additionalProperties"] = false,
    };

    public Task<ToolResult> InvokeAsync(JsonElement arguments, CancellationToken cancellationToken) =>
        sql.InReadOnlyTransactionAsync(async (connection, transaction) =>
        {
            var rows = (await connection.QueryAsync<(string Schema, string Name, string Kind, long RowEstimate)>(new CommandDefinition(
                ListSql, new { schemas = target.Options.SchemaList().ToArray() }, transaction, cancellationToken: cancellationToken))).ToList();
            var output = new JsonObject
            {
                ["columns"] = new JsonArray("schema", "name", "kind", "row_estimate"),
                ["rows"] = new JsonArray(rows.Select(r => (JsonNode)new JsonArray(r.Schema, r.Name, r.Kind, r.RowEstimate)).ToArray()),
            };
            return new ToolResult(ToolJson.Write(output), IsError: false, RowCount: rows.Count);
        }, ToolResult.Error, cancellationToken);
}
