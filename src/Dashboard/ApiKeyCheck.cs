using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace AgentWorker.Dashboard;

/// <summary>Requires the API key on <c>/api</c>; refuses to start without one when listening beyond loopback.</summary>
internal static class ApiKeyCheck
{
    /// <summary>
    /// Guards <c>/api</c>: with <c>Api:Key</c>, the key (or, when the dashboard has users, a signed-in session); without a
    /// key but with users, a signed-in session; with neither, nothing (the host then listens on loopback only). A viewer's
    /// session reads (GET) and changes nothing; an operator's does both. Runs after authentication.
    /// </summary>
    public static IApplicationBuilder UseApiKey(this IApplicationBuilder app, ApiKeyOptions options, bool usersConfigured)
    {
        if (string.IsNullOrEmpty(options.Key) && !usersConfigured)
        {
            return app;
        }
        var expected = string.IsNullOrEmpty(options.Key) ? null : Encoding.UTF8.GetBytes(options.Key);
        return app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal)
                || (expected is not null && HasKey(context.Request, expected))
                || (usersConfigured && SessionMay(context)))
            {
                await next(context);
                return;
            }
            var signedIn = context.User.Identity?.IsAuthenticated == true;
            context.Response.StatusCode = signedIn ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsJsonAsync(new
            {
                title = signedIn ? "Operators only" : expected is null ? "Sign-in required" : "API key required",
                status = context.Response.StatusCode,
                detail = signedIn
                    ? "A viewer's session reads the API (GET) but changes nothing; an operator's, or the API key, may."
                    : (expected is null ? "" : "Send the key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'. ")
                      + (usersConfigured ? "A signed-in dashboard session (/login) works too." : ""),
            }, context.RequestAborted);
        });
    }

    private static bool SessionMay(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true
        && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
            || context.User.IsInRole(DashboardSignIn.Operator));

    private static bool HasKey(HttpRequest request, byte[] expected)
    {
        var header = request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : request.Headers["X-Api-Key"].ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
    }

    internal static bool IsLoopback(string url)
    {
        var host = url.Replace("://+", "://wildcard", StringComparison.Ordinal).Replace("://*", "://wildcard", StringComparison.Ordinal);
        if (!Uri.TryCreate(host, UriKind.Absolute, out var uri))
        {
            return false;
        }
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }
}
