using System.Net;

namespace AgentWorker.Dashboard;

/// <summary>Reads the API key a request carries; tells a loopback address from an exposed one.</summary>
internal static class ApiKeyCheck
{
    /// <summary>The key the request offers, or null when it offers none.</summary>
    public static string? GivenKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        // The scheme name is case-insensitive (RFC 9110 11.1).
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }
        var key = request.Headers["X-Api-Key"].ToString();
        return key.Length > 0 ? key : null;
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
