using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace AgentWorker.Dashboard;

/// <summary>Requires the API key on <c>/api</c>; refuses to start without one when listening beyond loopback.</summary>
internal static class ApiKeyCheck
{
    /// <summary>Fails start-up when a non-loopback address is configured and <c>Api:Key</c> is empty.</summary>
    public static void EnsureKeyWhenExposed(IEnumerable<string> urls, ApiKeyOptions options)
    {
        if (!string.IsNullOrEmpty(options.Key))
        {
            return;
        }
        var exposed = urls.Where(u => !IsLoopback(u)).ToList();
        if (exposed.Count > 0)
        {
            throw new InvalidOperationException(
                $"The dashboard listens on {string.Join(", ", exposed)}, beyond loopback, so the task API needs a key: "
                + "set Api__Key (clients send 'Authorization: Bearer <key>'), or listen on 127.0.0.1 only.");
        }
    }

    public static IApplicationBuilder UseApiKey(this IApplicationBuilder app, ApiKeyOptions options)
    {
        if (string.IsNullOrEmpty(options.Key))
        {
            return app;
        }
        var expected = Encoding.UTF8.GetBytes(options.Key);
        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal) && !HasKey(context.Request, expected))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await context.Response.WriteAsJsonAsync(new
                {
                    title = "API key required",
                    status = 401,
                    detail = "Send the key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.",
                }, context.RequestAborted);
                return;
            }
            await next(context);
        });
    }

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
