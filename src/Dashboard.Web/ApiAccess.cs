using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace AgentWorker.Dashboard;

/// <summary>
/// The REST API's authorization policy <see cref="Policy"/>: the API key or a session as <see cref="ApiAccessRequirement"/>
/// says, and no cross-site writes (<see cref="CrossSiteWriteRequirement"/>). The API's route group carries it; with
/// <see cref="AgentDashboardOptions.LockEndpointsWithoutPolicy"/> it is also the fallback for any endpoint that names no
/// policy of its own, so an endpoint added without one is locked, not open.
/// </summary>
internal static class ApiAccess
{
    public const string Policy = AgentDashboardAuthorization.ApiPolicy;

    /// <summary>The API key's scheme and the policy, for a session of <paramref name="sessionScheme"/> (the dashboard's cookie, or the host's own).</summary>
    public static IServiceCollection AddApiAccess(this IServiceCollection services, ApiKeyOptions apiKey, bool signIn, string sessionScheme, bool lockEndpointsWithoutPolicy)
    {
        services.AddSingleton(apiKey);
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        var policy = new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName, sessionScheme)
            .AddRequirements(new ApiAccessRequirement(!string.IsNullOrEmpty(apiKey.Key), signIn), new CrossSiteWriteRequirement())
            .Build();
        services.AddAuthorization(options =>
        {
            options.AddPolicy(Policy, policy);
            if (lockEndpointsWithoutPolicy)
            {
                options.FallbackPolicy = policy;
            }
        });
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiAuthorizationResultHandler>();
        return services;
    }
}
