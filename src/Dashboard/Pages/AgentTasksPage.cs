using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Dashboard.Pages;

/// <summary><c>/hangfire/agent/tasks</c>: the latest tasks with status, turns, tool calls, time and tokens.</summary>
internal sealed class AgentTasksPage : AgentPage
{
    protected override string Title => "Agent tasks";

    protected override void Render()
    {
        var status = Query("status");
        var rows = Service<AgentTaskQueries>().Recent(string.IsNullOrEmpty(status) ? null : status, 100);
        WriteLiteral("<p>");
        foreach (var s in TaskStatuses.All.Prepend(""))
        {
            var label = s.Length == 0 ? "all" : s;
            WriteLiteral($"<a class=\"btn btn-sm btn-default\" href=\"{Url.To("/agent/tasks")}{(s.Length == 0 ? "" : "?status=" + s)}\">{E(label)}</a> ");
        }
        WriteLiteral("</p>");
        if (rows.Count == 0)
        {
            WriteLiteral("<div class=\"alert alert-info\">No agent tasks yet. Enqueue one with <code>select agent.enqueue(prompt =&gt; '...')</code>.</div>");
            return;
        }
        WriteLiteral("""
            <table class="table table-striped agent-tasks"><thead><tr><th>Task</th><th>Status</th><th>Prompt</th><th>Turns</th>
            <th>Tool calls</th><th>Total ms</th><th>Tokens in / cached / out</th><th>Outcome</th><th>Job</th></tr></thead><tbody>
            """);
        foreach (var row in rows)
        {
            var job = row.HangfireJobId is null ? "" : $"<a href=\"{Url.JobDetails(row.HangfireJobId)}\">#{E(row.HangfireJobId)}</a>";
            WriteLiteral($"""
                <tr><td><a href="{Url.To("/agent/tasks/" + row.Id)}">{row.Id}</a></td>
                <td><span class="label {StatusLabel(row.Status)}">{E(row.Status)}</span></td>
                <td>{E(Shorten(row.Prompt, 80))}</td><td>{row.Turns}</td><td>{row.ToolCalls}</td><td>{Ms(row.TotalMs)}</td>
                <td>{row.InputTokens} / {row.CachedTokens} / {row.OutputTokens}</td><td>{E(Shorten(row.Outcome, 120))}</td><td>{job}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table>");
    }

    private static string Shorten(string? text, int max) => text is null || text.Length <= max ? text ?? "" : text[..max] + "…";
}
