using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace AgentWorker.Dashboard;

/// <summary>
/// Sign-in through an OpenID Connect provider (Entra ID, Okta, Keycloak, Auth0, Google ...), section
/// <c>Dashboard:Oidc</c>: the authorization code flow with PKCE, then the dashboard's own cookie session. The role comes
/// from a claim of the ID token (<see cref="RoleClaim"/>): a value in <see cref="OperatorRoles"/> makes an operator, one
/// in <see cref="ViewerRoles"/> a viewer (with no viewer roles listed, anyone the provider signs in for this client may
/// view). Anyone else is refused.
/// </summary>
internal sealed class DashboardOidcOptions
{
    /// <summary>The configuration section: <c>Dashboard:Oidc</c> (environment <c>Dashboard__Oidc__*</c>).</summary>
    public const string SectionName = "Dashboard:Oidc";

    /// <summary>The provider's issuer URL (its discovery document is at <c>/.well-known/openid-configuration</c>).</summary>
    public Uri? Authority { get; set; }

    /// <summary>The client id the provider gave the dashboard.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client's secret (the code flow is confidential, with PKCE on top).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The sign-in button's words: "Sign in with …".</summary>
    public string DisplayName { get; set; } = "single sign-on";

    /// <summary>The ID token claim that carries roles or groups. Default <c>roles</c>.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>Comma-separated values of <see cref="RoleClaim"/> that make an operator.</summary>
    public string? OperatorRoles { get; set; }

    /// <summary>Comma-separated values of <see cref="RoleClaim"/> that make a viewer; empty: every other user of the provider.</summary>
    public string? ViewerRoles { get; set; }

    /// <summary>Extra scopes beyond <c>openid profile</c> (space- or comma-separated), e.g. one that adds the role claim.</summary>
    public string? Scopes { get; set; }

    /// <summary>Only for a provider on plain HTTP in a test setup: its metadata may then be fetched without TLS.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    internal const string Scheme = "oidc";

    internal const string ChallengePath = "/login/oidc";

    internal static DashboardOidcOptions? From(IConfiguration configuration)
    {
        // Any Dashboard__Oidc__* key turns it on: a half configuration is an error, never silently ignored.
        var section = configuration.GetSection(SectionName);
        if (!section.Exists())
        {
            return null;
        }
        var options = section.Get<DashboardOidcOptions>() ?? new DashboardOidcOptions();
        var missing = new List<string>();
        if (options.Authority is null || !options.Authority.IsAbsoluteUri)
        {
            missing.Add("Dashboard__Oidc__Authority (the provider's issuer URL)");
        }
        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            missing.Add("Dashboard__Oidc__ClientId");
        }
        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            missing.Add("Dashboard__Oidc__ClientSecret");
        }
        if (string.IsNullOrWhiteSpace(options.OperatorRoles) && string.IsNullOrWhiteSpace(options.ViewerRoles))
        {
            missing.Add("Dashboard__Oidc__OperatorRoles or Dashboard__Oidc__ViewerRoles (which values of the "
                + $"'{options.RoleClaim}' claim admit someone, and as what)");
        }
        if (missing.Count > 0)
        {
            throw new InvalidOperationException("OpenID Connect sign-in is half configured: set " + string.Join(", ", missing) + ".");
        }
        return options;
    }

    /// <summary>The dashboard role for the provider's claims, or null when they admit no one.</summary>
    internal string? RoleFor(ClaimsPrincipal principal)
    {
        var values = principal.FindAll(RoleClaim).SelectMany(c => c.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);
        if (List(OperatorRoles).Any(values.Contains))
        {
            return DashboardSignIn.Operator;
        }
        var viewers = List(ViewerRoles);
        return viewers.Count == 0 || viewers.Any(values.Contains) ? DashboardSignIn.Viewer : null;
    }

    private static List<string> List(string? values) =>
        [.. (values ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    internal void Configure(OpenIdConnectOptions oidc)
    {
        oidc.Authority = Authority!.AbsoluteUri.TrimEnd('/');
        oidc.ClientId = ClientId;
        oidc.ClientSecret = ClientSecret;
        oidc.RequireHttpsMetadata = RequireHttpsMetadata;
        oidc.ResponseType = OpenIdConnectResponseType.Code;
        // The code comes back in the query of a top-level GET: the correlation and nonce cookies can then be SameSite=Lax,
        // which browsers keep on plain HTTP too (a form_post needs SameSite=None, so Secure, so HTTPS).
        oidc.ResponseMode = OpenIdConnectResponseMode.Query;
        oidc.UsePkce = true;
        oidc.CallbackPath = "/signin-oidc";
        oidc.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        oidc.MapInboundClaims = false;
        oidc.SaveTokens = false;
        oidc.Scope.Clear();
        foreach (var scope in List("openid profile " + Scopes))
        {
            oidc.Scope.Add(scope);
        }
        oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
        oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        oidc.NonceCookie.SameSite = SameSiteMode.Lax;
        oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        oidc.Events.OnTokenValidated = context =>
        {
            var provider = context.Principal!;
            var role = RoleFor(provider);
            if (role is null)
            {
                context.Fail($"the '{RoleClaim}' claim holds none of the dashboard's roles");
                return Task.CompletedTask;
            }
            var name = provider.FindFirst("preferred_username")?.Value ?? provider.FindFirst("email")?.Value
                ?? provider.FindFirst("name")?.Value ?? provider.FindFirst("sub")?.Value ?? "unknown";
            // The session holds only who and what: the provider's tokens are not kept.
            context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role), new Claim("idp", Authority!.Host)],
                Scheme, ClaimTypes.Name, ClaimTypes.Role));
            return Task.CompletedTask;
        };
        oidc.Events.OnRemoteFailure = context =>
        {
            // Refused by the provider, by the role check, or an expired round trip: back to the sign-in page, saying so.
            context.Response.Redirect("/login?denied=1");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }
}
