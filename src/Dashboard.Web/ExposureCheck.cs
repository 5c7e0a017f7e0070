namespace AgentWorker.Dashboard;

/// <summary>
/// Listening beyond loopback, the host needs both locks: the REST API's key (<c>Api__Key</c>, at least
/// <see cref="MinKeyLength"/> characters) and at least one dashboard user or an OpenID Connect provider. Start-up fails
/// naming everything that is missing, in one message.
/// </summary>
internal static class ExposureCheck
{
    /// <summary>The API key is compared at full speed (no hash), so beyond loopback it must be too long to guess.</summary>
    public const int MinKeyLength = 16;

    public static void EnsureProtectedWhenExposed(IEnumerable<string> urls, ApiKeyOptions apiKey, bool signIn)
    {
        var exposed = urls.Where(u => !ApiKeyCheck.IsLoopback(u)).ToList();
        if (exposed.Count == 0)
        {
            return;
        }
        var missing = new List<string>();
        if (string.IsNullOrEmpty(apiKey.Key))
        {
            missing.Add("the task API needs a key: set Api__Key (clients send 'Authorization: Bearer <key>')");
        }
        else if (apiKey.Key.Length < MinKeyLength)
        {
            missing.Add($"the task API's key (Api__Key) has {apiKey.Key.Length} characters, too few to resist guessing: use at least "
                + $"{MinKeyLength} random ones (e.g. 'openssl rand -hex 32')");
        }
        if (!signIn)
        {
            missing.Add("the dashboard needs sign-in: add a user with Dashboard__Users__<name>__PasswordHash (make the hash with "
                + "'Dashboard hash-password') and Dashboard__Users__<name>__Role=operator (or viewer), or an OpenID Connect "
                + "provider with Dashboard__Oidc__Authority, __ClientId, __ClientSecret and __OperatorRoles");
        }
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The dashboard listens on {string.Join(", ", exposed)}, beyond loopback, so {string.Join("; and ", missing)}. Or listen on 127.0.0.1 only.");
        }
    }
}
