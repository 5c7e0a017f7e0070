using System.Globalization;
using System.Net;
using AgentWorker.Jobs.Tasks;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;

namespace AgentWorker.Dashboard.Pages;

/// <summary>A Hangfire dashboard page in the dashboard's own layout, with HTML-encoding helpers.</summary>
internal abstract class AgentPage : RazorPage
{
    protected abstract string Title { get; }

    protected T Service<T>() where T : notnull =>
        Context.GetHttpContext().RequestServices.GetRequiredService<T>();

    public override void Execute()
    {
        Layout = new LayoutPage(Title);
        WriteLiteral("<div class=\"row\"><div class=\"col-md-12\">");
        WriteLiteral($"<h1 class=\"page-header\">{E(Title)}</h1>");
        Render();
        WriteLiteral("</div></div>");
    }

    protected abstract void Render();

    protected static string E(object? value) => WebUtility.HtmlEncode(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");

    protected static string Ms(double? value) => value is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "";

    protected static string StatusLabel(string status) => status switch
    {
        TaskStatuses.Succeeded => "label-success",
        TaskStatuses.Failed => "label-danger",
        TaskStatuses.Running => "label-info",
        TaskStatuses.Cancelled => "label-default",
        _ => "label-warning",
    };
}
