using System.Globalization;
using AgentWorker.Jobs.Batches;
using Hangfire.Dashboard;

namespace AgentWorker.Dashboard.Pages;

/// <summary>
/// <c>/hangfire/agent/batches/{id}/results.csv</c>: the batch's results as CSV, behind the dashboard's own
/// authorization (the REST API's <c>/api/batches/{id}/results.csv</c> needs its key).
/// </summary>
internal sealed class BatchResultsCsvDispatcher : IDashboardDispatcher
{
    public async Task Dispatch(DashboardContext context)
    {
        var id = long.Parse(context.UriMatch.Groups["id"].Value, CultureInfo.InvariantCulture);
        var batches = context.GetHttpContext().RequestServices.GetRequiredService<IBatchClient>();
        if (await batches.ResultsAsync(id, context.GetHttpContext().RequestAborted) is not { } results)
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"There is no batch {id}.");
            return;
        }
        var csv = BatchCsv.Write(results);
        context.Response.ContentType = BatchCsv.ContentType;
        context.GetHttpContext().Response.Headers.ContentDisposition = $"attachment; filename=\"batch-{id}-results.csv\"";
        await context.Response.WriteAsync(System.Text.Encoding.UTF8.GetString(csv));
    }
}
