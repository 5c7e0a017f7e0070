using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace AgentWorker.Dashboard;

/// <summary>
/// Who may use the REST API: with <c>Api:Key</c>, the key (or, when the dashboard has sign-in, a signed-in session);
/// without a key but with sign-in, a session; with neither, anyone (the host then listens on loopback only). A viewer's
/// session reads (GET, HEAD) and changes nothing; an operator's and the key do both. Decided on the endpoint, so every
/// spelling of a path that routes to it meets the same rule.
/// </summary>
internal sealed class ApiAccessRequirement(bool keyConfigured, bool signIn) : AuthorizationHandler<ApiAccessRequirement>, IAuthorizationRequirement
{
    public bool KeyConfigured => keyConfigured;

    public bool SignIn => signIn;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiAccessRequirement requirement)
    {
        if (context.Resource is HttpContext http && Admits(context.User, http.Request.Method))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }

    /// <summary>Whether <paramref name="user"/> may send a request with <paramref name="method"/>.</summary>
    public bool Admits(ClaimsPrincipal user, string method) =>
        // With neither a key nor sign-in the API is open (to local callers: the host refuses to listen beyond loopback).
        (!keyConfigured && !signIn)
        || ApiKeyAuthenticationHandler.IsKey(user)
        || (signIn && IsSession(user) && (IsRead(method) || user.IsInRole(DashboardSignIn.Operator)));

    /// <summary>A request that changes nothing by HTTP's rules; every other method is a write.</summary>
    public static bool IsRead(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    /// <summary>A dashboard session (password or single sign-on), as opposed to the API key.</summary>
    public static bool IsSession(ClaimsPrincipal user) =>
        user.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType != ApiKeyAuthenticationHandler.SchemeName);
}
