using AgentWorker.Dashboard;
using AgentWorker.Dashboard.Pages;
using AgentWorker.Jobs.Llm;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the agent dashboard's services: sign-in, API access, the OpenAPI document, the pages' reads.</summary>
public static class AgentDashboardServiceCollectionExtensions
{
    /// <summary>
    /// Adds what <c>app.MapAgentApi()</c> and <c>app.UseAgentDashboard()</c> need: the API key (<c>Api:Key</c>), the
    /// dashboard's sign-in (users in <c>Dashboard:Users</c>, OpenID Connect in <c>Dashboard:Oidc</c>, or the host's own
    /// scheme, see <see cref="AgentDashboardOptions.AuthenticationScheme"/>), the policies
    /// <see cref="AgentDashboardAuthorization.ApiPolicy"/> and <see cref="AgentDashboardAuthorization.DashboardPolicy"/>,
    /// the login throttle and the OpenAPI document. The tasks themselves come from <c>AddAgentTasks</c> or
    /// <c>AddAgentWorker</c>, and Hangfire's storage from the host's <c>AddHangfire(c => c.UseAgentStorage(...))</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// A configuration that cannot be served: the app listens beyond loopback (<c>urls</c>) without an API key of 16
    /// characters or more and sign-in, a user without a password hash or with an unknown role, a half-configured OIDC
    /// provider. The message names the keys to set.
    /// </exception>
    public static IServiceCollection AddAgentDashboard(
        this IServiceCollection services, IConfiguration configuration, Action<AgentDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new AgentDashboardOptions();
        configure?.Invoke(options);
        var apiKey = configuration.GetSection(ApiKeyOptions.SectionName).Get<ApiKeyOptions>() ?? new ApiKeyOptions();
        var builtIn = options.AuthenticationScheme is null;
        var users = builtIn ? DashboardSignIn.Users(configuration) : [];
        var oidc = builtIn ? DashboardOidcOptions.From(configuration) : null;
        var signIn = !builtIn || users.Count > 0 || oidc is not null;
        var urls = Urls(configuration).ToList();
        ExposureCheck.EnsureProtectedWhenExposed(urls, apiKey, signIn);
        if (string.IsNullOrEmpty(configuration["AllowedHosts"]) && urls.All(ApiKeyCheck.IsLoopback))
        {
            // On loopback, only loopback names: a page on another site that rebinds its name to 127.0.0.1 is refused.
            services.PostConfigure<HostFilteringOptions>(hosts =>
            {
                if (hosts.AllowedHosts is [] or ["*"])
                {
                    hosts.AllowedHosts = ["localhost", "127.0.0.1", "[::1]"];
                }
            });
        }
        var scheme = options.AuthenticationScheme ?? CookieAuthenticationDefaults.AuthenticationScheme;
        services.AddSingleton(new AgentDashboardSettings(users, oidc, scheme, signIn, builtIn,
            configuration[$"{LlmOptions.SectionName}:{nameof(LlmOptions.Model)}"]));
        services.AddProblemDetails();
        services.AddTaskApiDocument();
        if (builtIn)
        {
            services.AddDashboardSignIn(oidc);
        }
        services.AddDashboardPolicy(scheme);
        services.AddApiAccess(apiKey, signIn, scheme, options.LockEndpointsWithoutPolicy);
        services.TryAddSingleton<AgentTaskQueries>();
        return services;
    }

    /// <summary>
    /// The addresses the app listens on, as Kestrel reads them: <c>urls</c> (<c>ASPNETCORE_URLS</c>), else
    /// <c>http_ports</c>/<c>https_ports</c> (every interface, as container images set them); none: Kestrel's loopback default.
    /// </summary>
    internal static IEnumerable<string> Urls(IConfiguration configuration)
    {
        static string[] List(string? value) => (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var urls = List(configuration["urls"] ?? configuration["ASPNETCORE_URLS"]);
        return urls.Length > 0 ? urls
            : [.. List(configuration["http_ports"]).Select(p => "http://+:" + p), .. List(configuration["https_ports"]).Select(p => "https://+:" + p)];
    }
}
