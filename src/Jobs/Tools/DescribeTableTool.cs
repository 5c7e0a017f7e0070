using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// <c>describe_table(table)</c>: columns, types, nullability and constraints. The name is looked up in the catalog
/// as a bound parameter, never interpolated into SQL.
/// </summary>
internal sealed class DescribeTableTool(ReadOnlySql sql, TargetDatabase target) : IAgentTool
{
    private const string FindSql = """
        select c.oid::bigint as oid, n.nspname as schema, c.relname as name
          from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = any(@schemas)
           and (@schema::text is null or n.nspname = @schema)
           and c.relname = @name
           and c.relkind in ('r', 'p', 'v', 'm', 'f')
           and has_table_privilege(c.oid, 'SELECT')
         order by array_position(@schemas, n.nspname::text)
         limit 1
        """;

    private const string ColumnsSql = """
        select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable
          from pg_catalog.pg_attribute a
         where a.attrelid = @oid::oid and a.attnum > 0 and not a.attisdropped
         order by a.attnum
        """;

    private const string ConstraintsSql = """
        select pg_catalog.pg_get_constraintdef(k.oid) as definition
          from pg_catalog.pg_constraint k
         where k.conrelid = @oid::oid and k.contype in ('p', 'u', 'f')
         order by k.contype, k.conname
        """;

    public string Name => "describe_table";

    public string Description => "Describes one table or view: its columns with types and nullability, primary, unique and foreign keys. "
        + "Pass the name as listed by list_tables, optionally qualified as schema.table.";

    public JsonObject Parameters { get; } = new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["table"] = new JsonObject { ["type"] = "string", ["description"] = "table name, or schema.table", ["maxLength"] = 200 },
        },
        ["required"] = new JsonArray("table"),
        ["additionalProperties"] = false,
    };

    public Task<ToolResult> InvokeAsync(JsonElement arguments, CancellationToken cancellationToken)
    {
        var requested = arguments.GetProperty("table").GetString()!.Trim(); // Validated as a string by the registry.
        var dot = requested.IndexOf('.', StringComparison.Ordinal);
        var schema = dot > 0 ? requested[..dot].Trim('"') : null;
        var name = (dot > 0 ? requested[(dot + 1)..] : requested).Trim('"');
        return sql.InReadOnlyTransactionAsync(async (connection, transaction) =>
        {
            var table = await connection.QuerySingleOrDefaultAsync<TableRef>(new CommandDefinition(
                FindSql, new { schemas = target.Options.SchemaList().ToArray(), schema, name }, transaction,
                cancellationToken: cancellationToken));
            if (table is null)
            {
                return ToolResult.Error($"No table or view named \"{requested}\" is visible. Call list_tables to see what exists.");
            }
            var columns = await connection.QueryAsync<(string Name, string Type, bool Nullable)>(new CommandDefinition(
                ColumnsSql, new { oid = table.Oid }, transaction, cancellationToken: cancellationToken));
            var constraints = await connection.QueryAsync<string>(new CommandDefinition(
                ConstraintsSql, new { oid = table.Oid }, transaction, cancellationToken: cancellationToken));
            var output = new JsonObject
            {
                ["table"] = table.Schema + "." + table.Name,
                ["columns"] = new JsonArray(columns.Select(c => (JsonNode)new JsonArray(c.Name, c.Type, c.Nullable)).ToArray()),
                ["column_fields"] = new JsonArray("name", "type", "nullable"),
                ["constraints"] = new JsonArray(constraints.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
            };
            return new ToolResult(ToolJson.Write(output), IsError: false, RowCount: output["columns"]!.AsArray().Count);
        }, ToolResult.Error, cancellationToken);
    }

    private sealed record TableRef(long Oid, string Schema, string Name);
}
