using System.Globalization;
using System.Text.Json.Nodes;

namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// <c>/hangfire/agent/pool</c>: each live worker process (reported within the last 30 s) with its runs and its socket
/// pool: open, idle, leased, waiters, handshakes, reuses, recycles, failures by kind. Refreshes every 5 s.
/// </summary>
internal sealed class AgentPoolPage : AgentPage
{
    protected override string Title => "Agent workers and sockets";

    protected override void Render()
    {
        var rows = Service<AgentTaskQueries>().Workers();
        WriteLiteral("<script>setTimeout(function () { location.reload(); }, 5000);</script>");
        if (rows.Count == 0)
        {
            WriteLiteral("<div class=\"alert alert-info agent-empty\">No worker has reported in the last 30 seconds. Is one running (<code>Worker run</code>)?</div>");
            return;
        }
        WriteLiteral("""
            <table class="table table-striped agent-pool"><thead><tr><th>Process</th><th>Started</th><th>Runs / slots</th><th>Open</th><th>Idle</th>
            <th>Leased</th><th>Waiters</th><th>Handshakes</th><th>Reuses</th><th>Recycles</th><th>Pruned</th><th>Failures</th><th>MCP servers</th><th>Reported</th></tr></thead><tbody>
            """);
        foreach (var row in rows)
        {
            var pool = JsonNode.Parse(row.Pool)!.AsObject();
            var failures = pool["failures"]?.AsObject() is { Count: > 0 } f
                ? string.Join(", ", f.Select(p => $"{p.Key} {p.Value}"))
                : "none";
            var mcp = pool["mcp"]?.AsArray() is { Count: > 0 } servers
                ? string.Join(", ", servers.Select(m => $"{m!["name"]} {m["status"]}" + (m["error"] is { } why ? $" ({why})" : "")))
                : "none";
            WriteLiteral($"""
                <tr class="agent-worker"><td title="{E(row.Process)}">{E(row.Host)} pid {row.Pid}</td>
                <td>{E(row.StartedAt.ToString("u", CultureInfo.InvariantCulture))}</td><td>{row.Runs} / {row.Slots}</td>
                <td class="agent-open">{E(pool["open"])}</td><td>{E(pool["idle"])}</td><td>{E(pool["leased"])}</td><td>{E(pool["waiters"])}</td>
                <td class="agent-handshakes">{E(pool["handshakes"])}</td><td>{E(pool["reuses"])}</td><td>{E(pool["recycles"])}</td><td>{E(pool["pruned"])}</td>
                <td>{E(failures)}</td><td class="agent-mcp">{E(mcp)}</td><td>{row.AgeSeconds:F0} s ago</td></tr>
                """);
        }
        WriteLiteral("</tbody></table>");
    }
}
