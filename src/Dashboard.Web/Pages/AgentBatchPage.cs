using System.Globalization;
using AgentWorker.Jobs.Batches;
using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary><c>/hangfire/agent/batches/{id}</c>: one batch: counts, progress, duration, tokens, its definition, results.</summary>
internal sealed class AgentBatchPage(long id) : AgentPage
{
    private BatchDetails? _batch;

    protected override string Title => $"Agent batch #{id}";

    public override async Task LoadAsync(DashboardContext context, CancellationToken cancellationToken) =>
        _batch = await Services(context).GetRequiredService<IBatchClient>().GetAsync(id, cancellationToken);

    protected override void Render()
    {
        var batch = _batch;
        if (batch is null)
        {
            NotFound($"There is no batch {id}.");
            return;
        }
        var duration = batch.StartedAt is { } started ? ((batch.FinishedAt ?? Service<TimeProvider>().GetUtcNow().UtcDateTime) - started).TotalSeconds : (double?)null;
        var followUp = batch.FollowUpTaskId is { } f ? $"<a href=\"{Url.To("/agent/tasks/" + f)}\">task #{f}</a>" : batch.FollowUp is null ? "none" : "when it finishes";
        WriteLiteral($"""
            <p class="agent-batch-meta"><span class="label {StatusLabel(batch.Status)} agent-status">{E(batch.Status)}</span> · {E(batch.Name)}
            {(batch.ScheduleName is null ? "" : $" · schedule {E(batch.ScheduleName)}")}</p>
            {AgentBatchesPage.Progress(batch)}
            <table class="table table-condensed agent-batch-counts" style="margin-top: 10px; width: auto">
            <tr><th>Total</th><td>{batch.Total}</td><th>Queued</th><td>{batch.Queued}</td><th>Running</th><td>{batch.Running}</td></tr>
            <tr><th>Succeeded</th><td class="agent-succeeded">{batch.Succeeded}</td><th>Failed</th><td>{batch.Failed}</td><th>Cancelled</th><td>{batch.Cancelled}</td></tr>
            <tr><th>Created</th><td>{E(batch.CreatedAt.ToString("u", CultureInfo.InvariantCulture))}</td><th>Started</th><td>{E(batch.StartedAt?.ToString("u", CultureInfo.InvariantCulture))}</td>
                <th>Finished</th><td>{E(batch.FinishedAt?.ToString("u", CultureInfo.InvariantCulture))}</td></tr>
            <tr><th>Duration s</th><td>{(duration is { } d ? d.ToString("F1", CultureInfo.InvariantCulture) : "")}</td>
                <th>Tokens in / cached</th><td>{batch.InputTokens} / {batch.CachedTokens}</td><th>Tokens out / reasoning</th><td>{batch.OutputTokens} / {batch.ReasoningTokens}</td></tr>
            </table>
            <p><a class="btn btn-default agent-batch-tasks" href="{Url.To("/agent/tasks")}?batch={id}">Its tasks</a>
               <a class="btn btn-default agent-batch-csv" href="{Url.To($"/agent/batches/{id}/results.csv")}">Download results (CSV)</a>
               · follow-up: {followUp}</p>
            {(batch.Error is null ? "" : $"<div class=\"alert alert-warning agent-batch-error\">{E(batch.Error)}</div>")}
            {(batch.Template is null ? "" : $"<h3>Template</h3><pre style=\"white-space: pre-wrap\">{E(batch.Template)}</pre><h3>Source query</h3><pre style=\"white-space: pre-wrap\">{E(batch.SourceSql)}</pre>")}
            """);
    }
}
