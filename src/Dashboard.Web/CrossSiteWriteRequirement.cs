using Microsoft.AspNetCore.Authorization;

namespace AgentWorker.Dashboard;

/// <summary>
/// A write to the API that does not carry the API key must not come from another site: a browser attaches the session
/// cookie (and on the open loopback default nothing is needed at all) to a form or <c>fetch</c> that another page
/// sends. The browser says where a request comes from: <c>Sec-Fetch-Site</c> must be <c>same-origin</c> (or <c>none</c>:
/// typed by the user), else <c>Origin</c> must be this site's, as Go's <c>http.CrossOriginProtection</c> decides. A
/// request with neither header is not from a current browser (curl, a script, a generated client) and may write, but
/// only with a JSON body or none: form, multipart and text bodies are what a page can send to another site without
/// asking it first, so they are refused (415) even where a bodyless write (cancel, retry) would ignore them. The key is
/// never attached by a browser on its own, so a request that carries it is exempt.
/// </summary>
internal sealed class CrossSiteWriteRequirement : AuthorizationHandler<CrossSiteWriteRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, CrossSiteWriteRequirement requirement)
    {
        if (context.Resource is HttpContext http && Refusal(http.Request, context.User) is null)
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }

    /// <summary>Why the request is refused as a possible cross-site write (its status, title and detail), or null.</summary>
    public static (int Status, string Title, string Detail)? Refusal(HttpRequest request, System.Security.Claims.ClaimsPrincipal user)
    {
        if (ApiAccessRequirement.IsRead(request.Method) || ApiKeyAuthenticationHandler.IsKey(user))
        {
            return null;
        }
        const string crossSite = "Cross-site request refused";
        const string how = " The dashboard's own pages and clients that send the API key may write.";
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
        {
            return (StatusCodes.Status403Forbidden, crossSite, $"The browser says this request comes from another site (Sec-Fetch-Site: {site})." + how);
        }
        var origin = request.Headers.Origin.ToString();
        if (site.Length == 0 && origin.Length > 0 && !string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase))
        {
            return (StatusCodes.Status403Forbidden, crossSite, $"The request comes from another origin (Origin: {origin})." + how);
        }
        if (!string.IsNullOrEmpty(request.ContentType) && !TaskApi.IsJson(request))
        {
            return (StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type",
                $"The body must be JSON sent as 'Content-Type: application/json' (or absent); got '{request.ContentType}'.");
        }
        return null;
    }
}
