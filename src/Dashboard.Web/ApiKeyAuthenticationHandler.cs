using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AgentWorker.Dashboard;

/// <summary>
/// The scheme <see cref="SchemeName"/>: a request that carries <c>Api:Key</c> (<c>Authorization: Bearer</c> or
/// <c>X-Api-Key</c>) is the API's client, with an operator's rights. A wrong key fails; no key is no result (a session
/// may still admit the request). Without <c>Api:Key</c> nothing authenticates this way.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyOptions apiKey)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "api-key";

    private readonly byte[]? _expected = string.IsNullOrEmpty(apiKey.Key) ? null : Encoding.UTF8.GetBytes(apiKey.Key);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (_expected is null || ApiKeyCheck.GivenKey(Request) is not { } given)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _expected))
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is wrong."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "api-key"), new Claim(ClaimTypes.Role, DashboardSignIn.Operator)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>Whether <paramref name="user"/> came with the API key (not with a session).</summary>
    public static bool IsKey(ClaimsPrincipal user) => user.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == SchemeName);
}
