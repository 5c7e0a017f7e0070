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

    protected static IServiceProvider Services(DashboardContext context) => context.GetHttpContext().RequestServices;

    /// <summary>
    /// Reads what the page shows before it renders (Hangfire renders a page synchronously; the reads go through the
    /// library's async clients). <see cref="AgentPageDispatcher"/> calls it.
    /// </summary>
    public virtual Task LoadAsync(DashboardContext context, CancellationToken cancellationToken) => Task.CompletedTask;

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
        // A host's own sign-in has its own way out; /logout is the dashboard's.
        if (http.User.Identity?.IsAuthenticated != true || !Service<AgentDashboardSettings>().BuiltInSignIn)
        {
            return;
        }
        var tokens = http.RequestServices.GetRequiredService<Microsoft.AspNetCore.Antiforgery.IAntiforgery>().GetAndStoreTokens(http);
        var role = http.User.IsInRole(AgentDashboardAuthorization.Operator) ? AgentDashboardAuthorization.Operator : AgentDashboardAuthorization.Viewer;
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

    /// <summary>
    /// A query-string value, or null when absent, blank or holding a NUL (PostgreSQL's text cannot; a decoded query
    /// string holds no unpaired surrogate, invalid bytes become U+FFFD).
    /// </summary>
    protected string? QueryValue(string name) =>
        Query(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) && !value.Contains('\0', StringComparison.Ordinal) ? value.Trim() : null;

    protected long? QueryLong(string name) => Long(QueryValue(name));

    /// <summary><see cref="QueryLong(string)"/> before the page is assigned its context (in <see cref="LoadAsync"/>).</summary>
    protected static long? QueryLong(DashboardContext context, string name) =>
        Long(context.Request.GetQuery(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null);

    private static long? Long(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
