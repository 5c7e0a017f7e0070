using System.Net;
using System.Security.Claims;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;

namespace AgentWorker.Dashboard;

/// <summary>
/// Sign-in for the dashboard: users from configuration (<c>Dashboard__Users__&lt;name&gt;__PasswordHash</c> and
/// <c>__Role</c>), a cookie session, and Hangfire's authorization filter. With users configured, every dashboard request
/// needs a signed-in user (on loopback too), and only operators may change anything; without users, the dashboard admits
/// local requests only (as Hangfire does) and the host refuses to listen beyond loopback.
/// </summary>
internal static class DashboardSignIn
{
    public const string Viewer = AgentDashboardAuthorization.Viewer;
    public const string Operator = AgentDashboardAuthorization.Operator;
    public const string SectionName = "Dashboard:Users";

    /// <summary>The dashboard's endpoint policy when it has sign-in: a signed-in user (a browser without one is sent to <c>/login</c>).</summary>
    public const string Policy = AgentDashboardAuthorization.DashboardPolicy;

    private static readonly PasswordHasher<string> s_hasher = new();

    /// <summary>Verified against for an unknown user, so it costs what a known one does.</summary>
    private static readonly string s_decoy = s_hasher.HashPassword("", Guid.NewGuid().ToString());

    public static string Hash(string password) => s_hasher.HashPassword("", password);

    public static Dictionary<string, DashboardUser> Users(IConfiguration configuration)
    {
        var users = configuration.GetSection(SectionName).Get<Dictionary<string, DashboardUser>>() ?? [];
        foreach (var (name, user) in users)
        {
            if (string.IsNullOrWhiteSpace(user.PasswordHash))
            {
                throw new InvalidOperationException($"Dashboard:Users:{name}:PasswordHash (environment Dashboard__Users__{name}__PasswordHash) is empty: make one with 'Dashboard hash-password'.");
            }
            if (user.Role is not (Viewer or Operator))
            {
                throw new InvalidOperationException($"Dashboard:Users:{name}:Role must be viewer or operator, got '{user.Role}'.");
            }
        }
        return users;
    }

    public static void AddDashboardSignIn(this IServiceCollection services, DashboardOidcOptions? oidc)
    {
        var authentication = services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme);
        if (oidc is not null)
        {
            authentication.AddOpenIdConnect(DashboardOidcOptions.Scheme, oidc.Configure);
        }
        authentication.AddCookie(options =>
        {
            options.LoginPath = "/login";
            options.LogoutPath = "/logout";
            options.Cookie.Name = "agent-dashboard";
            options.Cookie.HttpOnly = true;
            // Strict would drop the session on the provider's redirect back (a cross-site navigation) with OIDC.
            options.Cookie.SameSite = oidc is null ? SameSiteMode.Strict : SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
        });
        services.AddSingleton<LoginThrottle>();
    }

    /// <summary>The dashboard's policy (<see cref="Policy"/>) on <paramref name="sessionScheme"/>, and antiforgery (the forms, Hangfire's buttons).</summary>
    public static void AddDashboardPolicy(this IServiceCollection services, string sessionScheme)
    {
        services.AddAuthorization(options => options.AddPolicy(Policy, policy => policy
            .AddAuthenticationSchemes(sessionScheme).RequireAuthenticatedUser()));
        services.AddAntiforgery();
    }

    /// <summary>Authentication, the endpoints' authorization, and antiforgery for the sign-in forms.</summary>
    public static IApplicationBuilder UseSignInSessions(this IApplicationBuilder app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        // A login form that expired (its antiforgery token) is shown again with a word, not answered with an error.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException) when (context.Request.Path.StartsWithSegments("/login", StringComparison.OrdinalIgnoreCase) && !context.Response.HasStarted)
            {
                context.Response.Redirect("/login?expired=1");
            }
        });
        return app.UseAntiforgery();
    }

    /// <summary>The sign-in endpoints; after signing in a user goes back to the page asked for, else to <paramref name="home"/> (the dashboard).</summary>
    public static void MapSignIn(this IEndpointRouteBuilder endpoints, IReadOnlyDictionary<string, DashboardUser> users, DashboardOidcOptions? oidc, string home)
    {
        var page = new LoginPageOptions(users.Count > 0, oidc?.DisplayName, home);
        endpoints.MapGet("/login", (HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? expired, string? denied) =>
            Results.Content(LoginPage(page, antiforgery.GetAndStoreTokens(context), IsLocal(returnUrl) ? returnUrl : null,
                expired is not null ? "The sign-in form had expired: please sign in again."
                : denied is not null ? $"Sign-in with {oidc?.DisplayName} did not admit you: ask for a dashboard role, or try again." : null),
                "text/html; charset=utf-8"));
        if (oidc is not null)
        {
            // The provider's round trip; it comes back to /signin-oidc, then to the page asked for.
            endpoints.MapGet(DashboardOidcOptions.ChallengePath, (string? returnUrl) => Results.Challenge(
                new AuthenticationProperties { RedirectUri = IsLocal(returnUrl) ? returnUrl : home }, [DashboardOidcOptions.Scheme]));
        }
        endpoints.MapPost("/login", async (HttpContext context, IAntiforgery antiforgery, LoginThrottle throttle, [Microsoft.AspNetCore.Mvc.FromForm] LoginForm form) =>
        {
            var returnUrl = IsLocal(form.ReturnUrl) ? form.ReturnUrl! : home;
            var name = form.User ?? "";
            // Before the hash: a refused attempt costs no PBKDF2.
            if (throttle.TryAdmit(context.Connection.RemoteIpAddress, name) is { } refused)
            {
                var seconds = (int)refused.RetryAfter.TotalSeconds;
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Content(LoginPage(page, antiforgery.GetAndStoreTokens(context), returnUrl,
                        $"{refused.Message}: try again in {seconds} s."), "text/html; charset=utf-8",
                    statusCode: StatusCodes.Status429TooManyRequests);
            }
            var known = users.TryGetValue(name, out var user);
            // The same work and the same answer for an unknown user and a wrong password.
            var verified = s_hasher.VerifyHashedPassword("", known ? user!.PasswordHash! : s_decoy, form.Password ?? "") != PasswordVerificationResult.Failed;
            if (!known || !verified)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Results.Content(LoginPage(page, antiforgery.GetAndStoreTokens(context), returnUrl, "Unknown user or wrong password."), "text/html; charset=utf-8",
                    statusCode: StatusCodes.Status401Unauthorized);
            }
            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, user!.Role)], CookieAuthenticationDefaults.AuthenticationScheme);
            await context.SignInAsync(new ClaimsPrincipal(identity));
            return Results.LocalRedirect(returnUrl);
        });
        endpoints.MapPost("/logout", async (HttpContext context, [Microsoft.AspNetCore.Mvc.FromForm] LogoutForm _) =>
        {
            await context.SignOutAsync();
            return Results.LocalRedirect("/login");
        });
    }

    /// <summary>The body of <c>POST /logout</c> (only its antiforgery token matters).</summary>
    public sealed record LogoutForm(string? Unused = null);

    /// <summary>A path of this site: one slash, then no slash or backslash (which browsers read as another host).</summary>
    private static bool IsLocal(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Contains('\\', StringComparison.Ordinal);

    /// <summary>The body of <c>POST /login</c>.</summary>
    public sealed record LoginForm(string? User = null, string? Password = null, string? ReturnUrl = null);

    /// <summary>Hangfire's filter: with users, a signed-in user; without, local requests only.</summary>
    public sealed class AuthorizationFilter(bool usersConfigured) : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            var http = context.GetHttpContext();
            if (usersConfigured)
            {
                return http.User.Identity?.IsAuthenticated == true;
            }
            var remote = http.Connection.RemoteIpAddress;
            return remote is not null && (IPAddress.IsLoopback(remote) || remote.Equals(http.Connection.LocalIpAddress));
        }
    }

    /// <summary>Viewers change nothing: Hangfire hides its buttons and refuses its commands.</summary>
    public static bool IsReadOnly(DashboardContext context, bool usersConfigured) =>
        usersConfigured && !context.GetHttpContext().User.IsInRole(Operator);

    /// <summary>What the sign-in page offers: the password form (users configured), a provider's button (OIDC).</summary>
    private sealed record LoginPageOptions(bool Passwords, string? Provider, string Home);

    private static string LoginPage(LoginPageOptions options, AntiforgeryTokenSet tokens, string? returnUrl, string? error)
    {
        var back = returnUrl ?? options.Home;
        var provider = options.Provider is null ? "" : $"""
            <p><a class="agent-oidc" href="{DashboardOidcOptions.ChallengePath}?returnUrl={WebUtility.HtmlEncode(Uri.EscapeDataString(back))}">Sign in with {WebUtility.HtmlEncode(options.Provider)}</a></p>
            """;
        var form = !options.Passwords ? "" : $"""
            <input type="hidden" name="{WebUtility.HtmlEncode(tokens.FormFieldName)}" value="{WebUtility.HtmlEncode(tokens.RequestToken)}">
            <input type="hidden" name="returnUrl" value="{WebUtility.HtmlEncode(back)}">
            <label>User <input name="user" autocomplete="username" autofocus></label>
            <label>Password <input name="password" type="password" autocomplete="current-password"></label>
            <button type="submit">Sign in</button>
            """;
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Sign in · Agent worker</title>
            <style>body{font-family:sans-serif;background:#f5f5f5}form{max-width:320px;margin:80px auto;background:#fff;padding:24px;border:1px solid #ddd}
            label{display:block;margin-top:12px}input{width:100%;padding:6px;box-sizing:border-box}button{margin-top:16px;padding:8px 16px}.error{color:#a94442}</style></head>
            <body><form method="post" action="/login">
            <h2>Agent worker</h2>
            {{(error is null ? "" : $"<p class=\"error\">{WebUtility.HtmlEncode(error)}</p>")}}
            {{provider}}{{form}}
            </form></body></html>
            """;
    }
}
