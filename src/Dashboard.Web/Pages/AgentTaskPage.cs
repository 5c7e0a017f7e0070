using System.Globalization;
using System.Text;
using AgentWorker.Jobs.Tasks;
using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// <c>/hangfire/agent/tasks/{id}</c>: one task: prompt, effective model, result or error, usage, and a timeline of its
/// steps (one bar per model turn and tool call, to scale) with every step's details and each tool's output
/// (collapsed). While the task is queued or running the page updates itself every second (it fetches its live part,
/// <c>?fragment=1</c>), showing the step in flight as such.
/// </summary>
internal sealed class AgentTaskPage(long id) : AgentPage
{
    private TaskDetails? _task;

    protected override string Title => $"Agent task #{id}";

    public override async Task LoadAsync(DashboardContext context, CancellationToken cancellationToken) =>
        _task = await Services(context).GetRequiredService<ITaskClient>().GetAsync(id, cancellationToken);

    public override void Execute()
    {
        if (Query("fragment") == "1")
        {
            // Only the live part, no layout: what the page's script swaps in.
            var task = _task;
            if (task is null)
            {
                Context.Response.StatusCode = 404;
                return;
            }
            WriteLive(task);
            return;
        }
        base.Execute();
    }

    protected override void Render()
    {
        var task = _task;
        if (task is null)
        {
            NotFound($"There is no task {id}.");
            return;
        }
        var job = task.HangfireJobId is null ? "" : $" · Hangfire job <a href=\"{Url.JobDetails(task.HangfireJobId)}\">#{E(task.HangfireJobId)}</a>";
        var batch = task.BatchId is { } b ? $" · batch <a href=\"{Url.To("/agent/batches/" + b)}\">#{b}</a>" : "";
        WriteLiteral($"""
            <p class="agent-task-meta">model <strong class="agent-model">{E(task.Model ?? "not configured here")}</strong>{(task.RequestedModel is null ? " (the default)" : "")}
            · priority {task.Priority} · max_steps {task.MaxSteps} · created {E(task.CreatedAt.ToString("u", CultureInfo.InvariantCulture))}{batch}{job}</p>
            <p class="agent-task-agent">agent <strong class="agent-agent">{E(task.Agent ?? "none")}</strong>
            · tools <span class="agent-tools">{E(task.Tools is { Length: > 0 } tools ? string.Join(", ", tools) : "the database tools (default)")}</span>{(task.Tools is not null && task.ToolPatterns is not null && !task.Tools.SequenceEqual(task.ToolPatterns) ? $" <span class=\"agent-tool-patterns\">(from {E(string.Join(", ", task.ToolPatterns))})</span>" : "")}</p>
            <h3>Prompt</h3><pre class="agent-prompt" style="white-space: pre-wrap">{E(task.Prompt)}</pre>
            {(task.Instructions is null ? "" : $"<h3>Instructions</h3><pre class=\"agent-instructions\" style=\"white-space: pre-wrap\">{E(task.Instructions)}</pre>")}
            """);
        WriteLive(task);
        WriteLiteral($$"""
            <script>
            (function () {
              var url = {{System.Text.Json.JsonSerializer.Serialize(Url.To("/agent/tasks/" + id) + "?fragment=1")}};
              function live() { return document.getElementById('agent-live'); }
              function tick() {
                var current = live();
                if (!current || current.getAttribute('data-finished') === 'true') { return; }
                fetch(url, { credentials: 'same-origin', cache: 'no-store' })
                  .then(function (r) { return r.ok ? r.text() : null; })
                  .then(function (html) {
                    if (html) { var holder = document.createElement('div'); holder.innerHTML = html; current.replaceWith(holder.firstElementChild); }
                    setTimeout(tick, 1000);
                  })
                  .catch(function () { setTimeout(tick, 2000); });
              }
              setTimeout(tick, 1000);
            })();
            </script>
            """);
    }

    /// <summary>The part that changes while the task runs: status, result, usage, timeline, steps.</summary>
    private void WriteLive(TaskDetails task)
    {
        var finished = TaskStatuses.IsFinished(task.Status);
        var steps = task.Steps;
        // While it runs the task's totals are not written yet: its stored turns say how far it is.
        var (tokensIn, cached, tokensOut) = finished
            ? (task.InputTokens, task.CachedTokens, task.OutputTokens)
            : (steps.Sum(s => (long)(s.InputTokens ?? 0)), steps.Sum(s => (long)(s.CachedTokens ?? 0)), steps.Sum(s => (long)(s.OutputTokens ?? 0)));
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <div id="agent-live" data-status="{E(task.Status)}" data-finished="{(finished ? "true" : "false")}" data-steps="{steps.Count}">
            <p><span class="label {StatusLabel(task.Status)} agent-status">{E(task.Status)}</span> · attempt {task.Attempt}
            · {steps.Count} steps · tokens in {tokensIn}, cached {cached}, out {tokensOut}{(task.ReasoningTokens > 0 ? $", reasoning {task.ReasoningTokens}" : "")}
            {(task.CancelReason is null ? "" : $" · cancel: {E(task.CancelReason)}")}</p>
            """);
        if (task.ResultText is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>Result</h3><pre class=\"agent-result\" style=\"white-space: pre-wrap\">{E(task.ResultText)}</pre>");
        }
        else if (task.ErrorCode is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>Error</h3><pre class=\"agent-error alert-danger\" style=\"white-space: pre-wrap\">{E(task.ErrorCode)}: {E(task.ErrorMessage)}</pre>");
        }
        else
        {
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"alert alert-info agent-pending\">{(task.Status == TaskStatuses.Queued ? "Queued: not started yet" : "Running")}: {steps.Count} steps so far. This page updates itself.</div>");
        }
        AppendTimeline(html, task, finished);
        AppendSteps(html, task);
        html.Append("</div>");
        WriteLiteral(html.ToString());
    }

    private void AppendTimeline(StringBuilder html, TaskDetails task, bool finished)
    {
        var steps = task.Steps;
        var inFlight = !finished && task.Status == TaskStatuses.Running;
        if (steps.Count == 0 && !inFlight)
        {
            return;
        }
        // From the first step, or from the run's start while its first turn is still in flight.
        var start = steps.Count > 0 ? steps[0].StartedAt : task.StartedAt ?? Service<TimeProvider>().GetUtcNow().UtcDateTime;
        var end = steps.Count > 0 ? steps.Max(s => s.StartedAt.AddMilliseconds(s.DurationMs)) : start;
        var now = Service<TimeProvider>().GetUtcNow().UtcDateTime;
        if (inFlight && now > end)
        {
            end = now;
        }
        var total = Math.Max(1, (end - start).TotalMilliseconds);
        html.Append(CultureInfo.InvariantCulture, $"<h3>Timeline <small>{total:F0} ms from the first step</small></h3>");
        html.Append("<div class=\"agent-timeline\" style=\"position: relative; height: 28px; background: #f5f5f5; border: 1px solid #ddd; margin-bottom: 15px\">");
        foreach (var step in steps)
        {
            var left = (step.StartedAt - start).TotalMilliseconds / total * 100;
            var width = Math.Max(0.4, step.DurationMs / total * 100);
            var color = step.Kind == StepKinds.Model ? "#337ab7" : "#5cb85c";
            var label = step.Kind == StepKinds.Model
                ? $"#{step.Seq} model turn {step.DurationMs:F1} ms, first event after {step.TtftMs:F1} ms, {step.Transport}, {(step.SocketReused == true ? "reused socket" : "new socket")}, {(step.Chained == true ? "chained" : "full resend")}"
                : $"#{step.Seq} {step.ToolName} {step.DurationMs:F1} ms, {step.RowCount} rows{(step.Error is null ? "" : ", error")}";
            html.Append(CultureInfo.InvariantCulture,
                $"<div class=\"agent-bar agent-bar-{E(step.Kind)}\" title=\"{E(label)}\" style=\"position: absolute; top: 3px; bottom: 3px; left: {left:F2}%; width: {width:F2}%; background: {color}\"></div>");
        }
        if (inFlight)
        {
            var last = steps.Count > 0 ? steps[^1] : null;
            var from = last is null ? start : last.StartedAt.AddMilliseconds(last.DurationMs);
            var left = (from - start).TotalMilliseconds / total * 100;
            var what = last?.Kind == StepKinds.Model ? "a tool call" : "a model turn";
            html.Append(CultureInfo.InvariantCulture,
                $"<div class=\"agent-bar agent-bar-in-flight\" title=\"in flight: {what}\" style=\"position: absolute; top: 3px; bottom: 3px; left: {left:F2}%; right: 0; background: repeating-linear-gradient(45deg, #f0ad4e, #f0ad4e 6px, #fcf8e3 6px, #fcf8e3 12px)\"></div>");
        }
        html.Append("</div>");
    }

    private void AppendSteps(StringBuilder html, TaskDetails task)
    {
        if (task.Steps.Count == 0)
        {
            return;
        }
        var outputs = Service<AgentTaskQueries>().ToolOutputs(task.Id);
        var start = task.Steps[0].StartedAt;
        html.Append("""
            <h3>Steps</h3>
            <table class="table table-condensed agent-steps"><thead><tr><th>#</th><th>Kind</th><th>Tool / socket</th><th>At ms</th>
            <th>Duration ms</th><th>First event ms</th><th>Model ms</th><th>Transport</th><th>Socket</th><th>Context</th><th>Attempts</th>
            <th>Recovery</th><th>Request bytes</th><th>Tokens in / cached / out</th><th>Rows</th><th>Call</th></tr></thead><tbody>
            """);
        foreach (var step in task.Steps)
        {
            var model = step.Kind == StepKinds.Model;
            var call = new StringBuilder();
            if (!string.IsNullOrEmpty(step.Arguments))
            {
                call.Append(CultureInfo.InvariantCulture, $"<code class=\"agent-arguments\">{E(Readable(step.Arguments))}</code>");
            }
            if (step.Error is not null)
            {
                call.Append(CultureInfo.InvariantCulture, $"<div class=\"text-danger agent-step-error\">{E(step.Error)}</div>");
            }
            if (outputs.TryGetValue(step.Seq, out var output))
            {
                call.Append(CultureInfo.InvariantCulture,
                    $"<details class=\"agent-output\"><summary>output ({output.Length} characters{(step.Truncated == true ? ", cut" : "")})</summary><pre style=\"white-space: pre-wrap; max-height: 400px; overflow: auto\">{E(output)}</pre></details>");
            }
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr class="agent-step agent-step-{E(step.Kind)}"><td>{step.Seq}</td><td>{E(step.Kind)}{(step.Attempt > 1 ? $" (attempt {step.Attempt})" : "")}</td>
                <td>{E(model ? step.SocketId : step.ToolName)}</td><td>{Ms((step.StartedAt - start).TotalMilliseconds)}</td><td>{Ms(step.DurationMs)}</td>
                <td>{Ms(step.TtftMs)}</td><td>{Ms(step.ModelMs)}</td><td>{E(step.Transport)}</td>
                <td>{(model ? (step.SocketReused == true ? "reused" : "new") : "")}</td><td>{(model ? (step.Chained == true ? "chained" : "full resend") : "")}</td>
                <td>{E(step.Attempts)}</td><td>{E(step.Recovery)}</td><td>{E(step.RequestBytes)}</td>
                <td>{(model ? $"{step.InputTokens} / {step.CachedTokens} / {step.OutputTokens}" : "")}</td>
                <td>{E(step.RowCount)}{(step.Truncated == true ? " (cut)" : "")}</td><td>{call}</td></tr>
                """);
        }
        html.Append("</tbody></table>");
    }

    private static readonly System.Text.Json.JsonSerializerOptions s_readable =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Arguments as a person reads them: JSON without \u escapes for quotes and brackets (the page encodes them).</summary>
    private static string Readable(string arguments)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(arguments)?.ToJsonString(s_readable) ?? arguments;
        }
        catch (System.Text.Json.JsonException)
        {
            return arguments;
        }
    }
}
