using System.Globalization;
using AgentWorker.Jobs.Batches;
using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary><c>/hangfire/agent/batches</c>: batches newest first, with progress, counts and tokens.</summary>
internal sealed class AgentBatchesPage : AgentPage
{
    private IReadOnlyList<BatchDetails> _batches = [];

    protected override string Title => "Agent batches";

    public override async Task LoadAsync(DashboardContext context, CancellationToken cancellationToken) =>
        _batches = await Services(context).GetRequiredService<IBatchClient>().ListAsync(
            status: null, AgentTaskQueries.PageSize + 1, QueryLong(context, "before"), cancellationToken);

    protected override void Render()
    {
        var batches = _batches;
        if (batches.Count == 0)
        {
            WriteLiteral("<div class=\"alert alert-info agent-empty\">No batches yet. Create one with <code>select agent.enqueue_batch(name =&gt; '...', prompts =&gt; array['...'])</code>, or a schedule.</div>");
            return;
        }
        WriteLiteral("""
            <table class="table table-striped agent-batches"><thead><tr><th>Batch</th><th>Name</th><th>Status</th><th>Progress</th>
            <th>Total</th><th>Queued / running</th><th>Succeeded / failed / cancelled</th><th>Tokens in / out</th><th>Schedule</th><th>Created</th></tr></thead><tbody>
            """);
        foreach (var batch in batches.Take(AgentTaskQueries.PageSize))
        {
            WriteLiteral($"""
                <tr class="agent-batch-row"><td><a href="{Url.To("/agent/batches/" + batch.Id)}">{batch.Id}</a></td><td>{E(batch.Name)}</td>
                <td><span class="label {StatusLabel(batch.Status)}">{E(batch.Status)}</span></td><td>{Progress(batch)}</td><td>{batch.Total}</td>
                <td>{batch.Queued} / {batch.Running}</td><td>{batch.Succeeded} / {batch.Failed} / {batch.Cancelled}</td>
                <td>{batch.InputTokens} / {batch.OutputTokens}</td><td>{E(batch.ScheduleName)}</td>
                <td>{E(batch.CreatedAt.ToString("u", CultureInfo.InvariantCulture))}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table>");
        if (batches.Count > AgentTaskQueries.PageSize)
        {
            WriteLiteral($"<a class=\"btn btn-default agent-older\" href=\"{Url.To("/agent/batches")}?before={batches[AgentTaskQueries.PageSize - 1].Id}\">Older batches →</a>");
        }
    }

    internal static string Progress(BatchDetails batch)
    {
        var percent = (batch.Progress * 100).ToString("F0", CultureInfo.InvariantCulture);
        return $"<div class=\"progress agent-progress\" style=\"margin: 0; min-width: 120px\"><div class=\"progress-bar\" style=\"width: {percent}%\">{percent}%</div></div>";
    }
}
