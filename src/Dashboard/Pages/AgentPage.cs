using System.Globalization;
using System.Net;
using AgentWorker.Jobs.Tasks;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;

namespace AgentWorker.Dashboard.Pages;

/// <summary>A Hangfire dashboard page in the dashboard's own layout, with HTML-encoding helpers. Every text is encoded.</summary>
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
        WriteSignedIn();
        Render();
        WriteLiteral("</div></div>");
    }

    protected abstract void Render();

    /// <summary>Who is signed in, and a way out (a form: signing out takes the antiforgery token).</summary>
    private void WriteSignedIn()
    {
        var http = Context.GetHttpContext();
        if (http.User.Identity?.IsAuthenticated != true)
        {
            return;
        }
        var tokens = http.RequestServices.GetRequiredService<Microsoft.AspNetCore.Antiforgery.IAntiforgery>().GetAndStoreTokens(http);
        var role = http.User.IsInRole(DashboardSignIn.Operator) ? DashboardSignIn.Operator : DashboardSignIn.Viewer;
        WriteLiteral($"""
            <form class="agent-signed-in pull-right" method="post" action="/logout" style="margin-top: -50px">
              signed in as <strong>{E(http.User.Identity.Name)}</strong> ({E(role)})
              <input type="hidden" name="{E(tokens.FormFieldName)}" value="{E(tokens.RequestToken)}">
              <button class="btn btn-xs btn-default" type="submit">Sign out</button>
            </form>
            """);
    }

    /// <summary>Answers 404 with a message (the page still renders in the layout).</summary>
    protected void NotFound(string message)
    {
        Context.Response.StatusCode = (int)HttpStatusCode.NotFound;
        WriteLiteral($"<div class=\"alert alert-warning agent-not-found\">{E(message)}</div>");
    }

    protected static string E(object? value) => WebUtility.HtmlEncode(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");

    protected static string Ms(double? value) => value is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "";

    protected static string YesNo(bool? value) => value switch { true => "yes", false => "no", _ => "" };

    protected static string Shorten(string? text, int max) => text is null || text.Length <= max ? text ?? "" : text[..max] + "…";

    protected static string StatusLabel(string status) => status switch
    {
        TaskStatuses.Succeeded or "finished" => "label-success",
        TaskStatuses.Failed => "label-danger",
        TaskStatuses.Running => "label-info",
        TaskStatuses.Cancelled => "label-default",
        _ => "label-warning",
    };

    /// <summary>A query-string value, or null when absent, blank or not storable text (a NUL cannot reach PostgreSQL).</summary>
    protected string? QueryValue(string name) =>
        Query(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) && StorableText.IsStorable(value) ? value.Trim() : null;

    protected long? QueryLong(string name) =>
        long.TryParse(QueryValue(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
