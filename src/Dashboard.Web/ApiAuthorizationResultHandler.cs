using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace AgentWorker.Dashboard;

/// <summary>
/// A request the API's policy refuses gets a problem body saying what would admit it (401: the key or a sign-in; 403: an
/// operator, or the same site; 415: a JSON body), never the sign-in page's redirect. Other policies answer as ASP.NET
/// Core does (the dashboard's sends a browser to <c>/login</c>).
/// </summary>
internal sealed class ApiAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        var access = policy.Requirements.OfType<ApiAccessRequirement>().FirstOrDefault();
        if (authorizeResult.Succeeded || access is null)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }
        var (status, title, detail) = Refusal(context, access);
        if (status == StatusCodes.Status401Unauthorized && access.KeyConfigured)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        await Results.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(context);
    }

    private static (int Status, string Title, string Detail) Refusal(HttpContext context, ApiAccessRequirement access)
    {
        var user = context.User;
        if (access.Admits(user, context.Request.Method) && CrossSiteWriteRequirement.Refusal(context.Request, user) is { } crossSite)
        {
            return crossSite;
        }
        if (ApiAccessRequirement.IsSession(user))
        {
            return (StatusCodes.Status403Forbidden, "Operators only",
                "A viewer's session reads the API (GET) but changes nothing; an operator's, or the API key, may.");
        }
        var key = !access.KeyConfigured ? ""
            : ApiKeyCheck.GivenKey(context.Request) is not null ? "The API key sent is wrong. "
            : "Send the key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'. ";
        return (StatusCodes.Status401Unauthorized, access.KeyConfigured ? "API key required" : "Sign-in required",
            key + (access.SignIn ? "A signed-in dashboard session (/login) works too." : ""));
    }
}
