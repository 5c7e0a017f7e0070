using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentWorker.Tests.Dashboard;

/// <summary>
/// A minimal OpenID Connect provider over real HTTP for the dashboard's sign-in: discovery, keys, an authorize endpoint
/// that signs in <see cref="NextUser"/> at once (no login form), and a token endpoint that checks the client's secret,
/// the code and its PKCE verifier, and issues an RS256 ID token with the user's roles.
/// </summary>
public sealed class FakeOidcProvider : IAsyncDisposable
{
    public const string ClientId = "agent-dashboard";
    public const string ClientSecret = "test-client-secret";

    private static readonly string[] s_code = ["code"];
    private static readonly string[] s_public = ["public"];
    private static readonly string[] s_rs256 = ["RS256"];
    private static readonly string[] s_s256 = ["S256"];

    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "test-key" };
    private readonly ConcurrentDictionary<string, (string Nonce, string Challenge, string RedirectUri, (string Name, string[] Roles) User)> _codes = new();

    private FakeOidcProvider(WebApplication app) => _app = app;

    /// <summary>Who the next authorize request signs in, and with which values of the <c>roles</c> claim.</summary>
    public (string Name, string[] Roles) NextUser { get; set; } = ("someone", []);

    public Uri Authority => new(_app.Urls.First());

    public int TokensIssued { get; private set; }

    public static async Task<FakeOidcProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var provider = new FakeOidcProvider(app);
        app.MapGet("/.well-known/openid-configuration", () =>
        {
            var issuer = provider.Issuer;
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = issuer,
                ["authorization_endpoint"] = issuer + "/authorize",
                ["token_endpoint"] = issuer + "/token",
                ["jwks_uri"] = issuer + "/jwks",
                ["response_types_supported"] = s_code,
                ["subject_types_supported"] = s_public,
                ["id_token_signing_alg_values_supported"] = s_rs256,
                ["code_challenge_methods_supported"] = s_s256,
            });
        });
        app.MapGet("/jwks", () => Results.Json(new { keys = new[] { JsonWebKeyConverter.ConvertFromRSASecurityKey(provider.PublicKey()) } }));
        app.MapGet("/authorize", (HttpRequest request) => provider.Authorize(request));
        app.MapPost("/token", (HttpRequest request) => provider.TokenAsync(request));
        await app.StartAsync();
        return provider;
    }

    private string Issuer => Authority.AbsoluteUri.TrimEnd('/');

    private RsaSecurityKey PublicKey() => new(_key.Rsa.ExportParameters(includePrivateParameters: false)) { KeyId = _key.KeyId };

    private IResult Authorize(HttpRequest request)
    {
        var query = request.Query;
        if (query["client_id"] != ClientId || query["response_type"] != "code" || query["code_challenge_method"] != "S256")
        {
            return Results.BadRequest("unexpected authorize request: " + request.QueryString);
        }
        var code = Guid.NewGuid().ToString("N");
        _codes[code] = (query["nonce"]!, query["code_challenge"]!, query["redirect_uri"]!, NextUser);
        return Results.Redirect($"{query["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(query["state"]!)}");
    }

    private async Task<IResult> TokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret || form["grant_type"] != "authorization_code"
            || !_codes.TryRemove(form["code"].ToString(), out var grant) || form["redirect_uri"] != grant.RedirectUri
            || Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != grant.Challenge)
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        }
        TokensIssued++;
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = "sub-" + grant.User.Name,
            ["preferred_username"] = grant.User.Name,
            ["nonce"] = grant.Nonce,
            ["roles"] = grant.User.Roles,
        };
        var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = ClientId,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
        return Results.Json(new { access_token = "opaque-" + Guid.NewGuid().ToString("N"), token_type = "Bearer", expires_in = 600, id_token = idToken });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _key.Rsa.Dispose();
    }
}
