namespace AgentWorker.Dashboard.Pages;

/// <summary><c>/hangfire/agent/tasks/{id}</c>: one task, its result and every step with its timings.</summary>
internal sealed class AgentTaskPage(long id) : AgentPage
{
    protected override string Title => $"Agent task #{id}";

    protected override void Render()
    {
        var task = Service<AgentTaskQueries>().Task(id);
        if (task is null)
        {
            WriteLiteral($"<div class=\"alert alert-warning\">There is no task {id}.</div>");
            return;
        }
        var job = task.HangfireJobId is null ? "" : $" · Hangfire job <a href=\"{Url.JobDetails(task.HangfireJobId)}\">#{E(task.HangfireJobId)}</a>";
        WriteLiteral($"""
            <p><span class="label {StatusLabel(task.Status)}">{E(task.Status)}</span> · attempt {task.Attempt} · model {E(task.Model ?? "not configured here")}{(task.RequestedModel is null ? " (default)" : "")}
            · tokens in {task.InputTokens}, cached {task.CachedTokens}, out {task.OutputTokens}{job}</p>
            <h3>Prompt</h3><pre style="white-space: pre-wrap">{E(task.Prompt)}</pre>
            <h3>{(task.ErrorCode is null ? "Result" : "Error")}</h3>
            <pre class="agent-result" style="white-space: pre-wrap">{E(task.ResultText ?? $"{task.ErrorCode}: {task.ErrorMessage}")}</pre>
            <h3>Steps</h3>
            <table class="table table-condensed agent-steps"><thead><tr><th>#</th><th>Kind</th><th>Tool / socket</th><th>Duration ms</th>
            <th>TTFT ms</th><th>Reused</th><th>Chained</th><th>Tokens in / cached / out</th><th>Rows</th><th>Arguments / error</th></tr></thead><tbody>
            """);
        foreach (var step in task.Steps)
        {
            var what = step.Kind == "tool" ? step.ToolName : step.SocketId;
            var detail = step.Error ?? step.Arguments;
            var detailCell = string.IsNullOrEmpty(detail) ? "" : $"<code>{E(detail)}</code>";
            var tokens = step.Kind == "model" ? $"{step.InputTokens} / {step.CachedTokens} / {step.OutputTokens}" : "";
            WriteLiteral($"""
                <tr><td>{step.Seq}</td><td>{E(step.Kind)}</td><td>{E(what)}</td><td>{Ms(step.DurationMs)}</td><td>{Ms(step.TtftMs)}</td>
                <td>{E(step.SocketReused)}</td><td>{E(step.Chained)}</td><td>{tokens}</td><td>{E(step.RowCount)}</td><td>{detailCell}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table>");
    }
}
