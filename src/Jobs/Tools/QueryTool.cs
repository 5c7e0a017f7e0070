using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary><c>query(sql)</c>: one read-only SQL statement against the target; rows capped, errors returned as text.</summary>
internal sealed class QueryTool(ReadOnlySql sql) : IAgentTool
{
    public string Name => "query";

    public string Description => "Runs one read-only SQL SELECT statement and returns its rows as JSON "
        + "(columns once, then rows). Results are capped; aggregate or filter for large tables.";

    public JsonObject Parameters { get; } = new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["sql"] = new JsonObject { ["type"] = "string", ["description"] = "one SQL statement", ["maxLength"] = 20_000 },
        },
        ["required"] = new JsonArray("sql"),
        ["additionalProperties"] = false,
    };

    public Task<ToolResult> InvokeAsync(JsonElement arguments, CancellationToken cancellationToken)
    {
        var statement = arguments.GetProperty("sql").GetString(); // Validated as a string by the registry.
        if (string.IsNullOrWhiteSpace(statement))
        {
            return Task.FromResult(ToolResult.Error("The sql argument is empty."));
        }
        if (ReadOnlySql.Refusal(statement) is { } refusal)
        {
            return Task.FromResult(ToolResult.Error(refusal));
        }
        return sql.QueryAsync(statement, cancellationToken);
    }
}
