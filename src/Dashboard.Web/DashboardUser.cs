namespace AgentWorker.Dashboard;

/// <summary>A dashboard user: a password hash (<c>Dashboard hash-password</c> makes one) and a role.</summary>
public sealed class DashboardUser
{
    /// <summary>ASP.NET Core Identity's PBKDF2 hash (V3 format) of the password.</summary>
    public string? PasswordHash { get; set; }

    /// <summary><c>viewer</c> (reads everything, changes nothing) or <c>operator</c> (also deletes, requeues, triggers). Default viewer.</summary>
    public string Role { get; set; } = DashboardSignIn.Viewer;

    /// <summary>The value for <see cref="PasswordHash"/> (<c>Dashboard__Users__&lt;name&gt;__PasswordHash</c>) of <paramref name="password"/>.</summary>
    public static string HashPassword(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return DashboardSignIn.Hash(password);
    }
}
