using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// <c>/hangfire/agent/tasks</c>: tasks newest first, 50 a page, filtered by status, batch and model (the active filter
/// is shown), with turns, tool calls, time and tokens.
/// </summary>
internal sealed class AgentTasksPage : AgentPage
{
    protected override string Title => "Agent tasks";

    protected override void Render()
    {
        var filter = new AgentTaskQueries.TaskFilter(
            QueryValue("status") is { } s && TaskStatuses.All.Contains(s) ? s : null, QueryLong("batch"), QueryValue("model"));
        var before = QueryLong("before");
        var (rows, more) = Service<AgentTaskQueries>().Tasks(filter, before);
        var baseUrl = Url.To("/agent/tasks");
        var ignored = Ignored(filter, before);
        if (ignored.Count > 0)
        {
            WriteLiteral($"<div class=\"alert alert-warning agent-ignored\">Ignored: {E(string.Join("; ", ignored))}.</div>");
        }

        WriteLiteral("<p class=\"agent-status-filter\">");
        foreach (var status in TaskStatuses.All.Prepend(""))
        {
            var active = (filter.Status ?? "") == status ? "btn-primary active" : "btn-default";
            WriteLiteral($"<a class=\"btn btn-sm {active}\" href=\"{baseUrl}{E(Link(filter with { Status = status.Length == 0 ? null : status }, null))}\">{E(status.Length == 0 ? "all" : status)}</a> ");
        }
        WriteLiteral("</p>");
        WriteLiteral($"""
            <form class="form-inline agent-filter" method="get" action="{baseUrl}" style="margin-bottom: 10px">
              {(filter.Status is null ? "" : $"<input type=\"hidden\" name=\"status\" value=\"{E(filter.Status)}\">")}
              <input class="form-control input-sm" name="batch" placeholder="batch id" value="{E(filter.Batch)}">
              <input class="form-control input-sm" name="model" placeholder="model" value="{E(filter.Model)}">
              <button class="btn btn-sm btn-default" type="submit">Filter</button>
            </form>
            """);
        WriteLiteral($"<p class=\"agent-active-filter\">{E(Describe(filter))}{(before is null ? "" : $", older than task #{before}")}</p>");
        if (before is not null)
        {
            WriteLiteral($"<p><a class=\"btn btn-xs btn-default agent-newest\" href=\"{baseUrl}{E(Link(filter, null))}\">← Newest</a></p>");
        }
        if (rows.Count == 0)
        {
            WriteLiteral(filter.Any
                ? $"<div class=\"alert alert-info agent-empty\">No tasks match: {E(Describe(filter))}.</div>"
                : "<div class=\"alert alert-info agent-empty\">No agent tasks yet. Enqueue one with <code>select agent.enqueue(prompt =&gt; '...')</code>.</div>");
            return;
        }
        WriteLiteral("""
            <table class="table table-striped agent-tasks"><thead><tr><th>Task</th><th>Status</th><th>Prompt</th><th>Model</th><th>Batch</th>
            <th>Turns</th><th>Tool calls</th><th>Total ms</th><th>Tokens in / cached / out</th><th>Outcome</th><th>Job</th></tr></thead><tbody>
            """);
        foreach (var row in rows)
        {
            var job = row.HangfireJobId is null ? "" : $"<a href=\"{Url.JobDetails(row.HangfireJobId)}\">#{E(row.HangfireJobId)}</a>";
            var batch = row.BatchId is { } b ? $"<a href=\"{Url.To("/agent/batches/" + b)}\">#{b}</a>" : "";
            WriteLiteral($"""
                <tr class="agent-task-row"><td><a href="{Url.To("/agent/tasks/" + row.Id)}">{row.Id}</a></td>
                <td><span class="label {StatusLabel(row.Status)}">{E(row.Status)}</span></td>
                <td>{E(Shorten(row.Prompt, 80))}</td><td>{E(row.Model)}</td><td>{batch}</td><td>{row.Turns}</td><td>{row.ToolCalls}</td>
                <td>{Ms(row.TotalMs)}</td><td>{row.InputTokens} / {row.CachedTokens} / {row.OutputTokens}</td>
                <td>{E(Shorten(row.Outcome, 120))}</td><td>{job}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table>");
        if (more)
        {
            WriteLiteral($"<a class=\"btn btn-default agent-older\" href=\"{baseUrl}{E(Link(filter, rows[^1].Id))}\">Older tasks →</a>");
        }
    }

    /// <summary>Filter values that were given but could not be used, said back rather than silently dropped.</summary>
    private List<string> Ignored(AgentTaskQueries.TaskFilter filter, long? before)
    {
        var ignored = new List<string>();
        if (Query("status") is { Length: > 0 } status && filter.Status is null)
        {
            ignored.Add($"status \"{status}\" (one of {string.Join(", ", TaskStatuses.All)})");
        }
        if (Query("batch") is { Length: > 0 } batch && filter.Batch is null)
        {
            ignored.Add($"batch \"{batch}\" (a batch id)");
        }
        if (Query("model") is { Length: > 0 } model && filter.Model is null)
        {
            ignored.Add("model (not text)");
        }
        if (Query("before") is { Length: > 0 } older && before is null)
        {
            ignored.Add($"before \"{older}\" (a task id)");
        }
        return ignored;
    }

    private static string Describe(AgentTaskQueries.TaskFilter filter)
    {
        var parts = new List<string>();
        if (filter.Status is not null)
        {
            parts.Add("status " + filter.Status);
        }
        if (filter.Batch is not null)
        {
            parts.Add("batch #" + filter.Batch);
        }
        if (filter.Model is not null)
        {
            parts.Add("model " + filter.Model);
        }
        return parts.Count == 0 ? "Showing all tasks, newest first" : "Showing tasks with " + string.Join(", ", parts);
    }

    private static string Link(AgentTaskQueries.TaskFilter filter, long? before)
    {
        var query = new List<string>();
        if (filter.Status is not null)
        {
            query.Add("status=" + Uri.EscapeDataString(filter.Status));
        }
        if (filter.Batch is not null)
        {
            query.Add("batch=" + filter.Batch);
        }
        if (filter.Model is not null)
        {
            query.Add("model=" + Uri.EscapeDataString(filter.Model));
        }
        if (before is not null)
        {
            query.Add("before=" + before);
        }
        return query.Count == 0 ? "" : "?" + string.Join('&', query);
    }
}
