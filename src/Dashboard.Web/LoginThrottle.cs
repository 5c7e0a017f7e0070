using System.Net;
using System.Net.Sockets;

namespace AgentWorker.Dashboard;

/// <summary>
/// Bounds password guessing at <c>POST /login</c> before any password is hashed (each hash is PBKDF2: CPU an attacker
/// would spend for free). An attempt counts in three fixed windows of <see cref="Window"/>, and is refused when any is
/// full: per client address (<see cref="PerClient"/>; an IPv6 client by its /64, which one holder usually has whole),
/// per user name (<see cref="PerUser"/>, known or not, so a refusal tells nothing about which names exist) and for
/// every client together (<see cref="Total"/>, which caps the hashing one process does for sign-in). One address can
/// never use up a user's window (<see cref="PerClient"/> is half of it), so a lone attacker cannot lock a user out;
/// attackers on many addresses can, but only while they keep trying and for one window after. A refused attempt
/// counts nowhere and costs no hash. Entries are made only for admitted attempts and forgotten a window after, so
/// at most twice <see cref="Total"/> are held.
/// </summary>
internal sealed partial class LoginThrottle(TimeProvider time, ILogger<LoginThrottle> logger)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public const int PerClient = 10;

    public const int PerUser = 20;

    public const int Total = 300;

    /// <summary>Longer names cannot be a configured user's in practice; they share the window of their first characters.</summary>
    private const int MaxNameKey = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Counter> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Counter> _users = new(StringComparer.Ordinal);
    private Counter _total = new(DateTimeOffset.MinValue, 0);
    private DateTimeOffset _swept = DateTimeOffset.MinValue;

    /// <summary>What refused an attempt: the message the sign-in page shows, and when to try again.</summary>
    public sealed record Refusal(string Message, TimeSpan RetryAfter);

    /// <summary>Counts one attempt and returns null, or refuses it (counting nothing).</summary>
    public Refusal? TryAdmit(IPAddress? client, string user)
    {
        var now = time.GetUtcNow();
        var clientKey = ClientKey(client);
        var userKey = user.Length <= MaxNameKey ? user : user[..MaxNameKey];
        lock (_lock)
        {
            Sweep(now);
            var byClient = Current(_clients, clientKey, now);
            var byUser = Current(_users, userKey, now);
            var total = _total.Start + Window > now ? _total : new Counter(now, 0);
            Refusal? refusal = null;
            if (byClient.Count >= PerClient)
            {
                refusal = Later(refusal, new Refusal("Too many sign-in attempts from your address", byClient.Start + Window - now));
            }
            if (byUser.Count >= PerUser)
            {
                refusal = Later(refusal, new Refusal("Too many sign-in attempts for this user", byUser.Start + Window - now));
            }
            if (total.Count >= Total)
            {
                refusal = Later(refusal, new Refusal("Too many sign-in attempts on this dashboard", total.Start + Window - now));
            }
            if (refusal is not null)
            {
                return refusal with { RetryAfter = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(refusal.RetryAfter.TotalSeconds))) };
            }
            _clients[clientKey] = byClient with { Count = byClient.Count + 1 };
            _users[userKey] = byUser with { Count = byUser.Count + 1 };
            _total = total with { Count = total.Count + 1 };
            if (byClient.Count + 1 == PerClient)
            {
                LogClientLimited(logger, clientKey, PerClient, Window.TotalSeconds);
            }
            if (byUser.Count + 1 == PerUser)
            {
                LogUserLimited(logger, userKey, PerUser, Window.TotalSeconds);
            }
            return null;
        }
    }

    /// <summary>The refusal that lasts longer: the page says when every window admits again.</summary>
    private static Refusal Later(Refusal? current, Refusal next) => current is null || next.RetryAfter > current.RetryAfter ? next : current;

    private static Counter Current(Dictionary<string, Counter> windows, string key, DateTimeOffset now) =>
        windows.TryGetValue(key, out var counter) && counter.Start + Window > now ? counter : new Counter(now, 0);

    /// <summary>Once a window: forgets the windows that are over.</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (now - _swept < Window)
        {
            return;
        }
        _swept = now;
        foreach (var windows in (Dictionary<string, Counter>[])[_clients, _users])
        {
            foreach (var key in windows.Where(w => w.Value.Start + Window <= now).Select(w => w.Key).ToList())
            {
                windows.Remove(key);
            }
        }
    }

    internal static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private readonly record struct Counter(DateTimeOffset Start, int Count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in: {Client} made {Limit} attempts in {WindowSeconds} s; more are refused until the window ends")]
    private static partial void LogClientLimited(ILogger logger, string client, int limit, double windowSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in: user name {User} had {Limit} attempts in {WindowSeconds} s; more are refused until the window ends")]
    private static partial void LogUserLimited(ILogger logger, string user, int limit, double windowSeconds);
}
