using System.Net;
using AgentWorker.Dashboard;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AgentWorker.Tests.Dashboard;

public sealed class LoginThrottleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    private LoginThrottle Throttle() => new(_time, NullLogger<LoginThrottle>.Instance);

    private static IPAddress Address(int i) => new([10, 0, (byte)(i / 256), (byte)(i % 256)]);

    [Fact]
    public void TryAdmit_OneAddressAtItsLimit_IsRefusedUntilItsWindowEnds_SayingWhenToTryAgain()
    {
        var throttle = Throttle();
        for (var i = 0; i < LoginThrottle.PerClient; i++)
        {
            Assert.Null(throttle.TryAdmit(Address(1), "user" + i));
        }

        var refused = throttle.TryAdmit(Address(1), "someone-else");
        _time.Advance(TimeSpan.FromSeconds(45));
        var later = throttle.TryAdmit(Address(1), "someone-else");
        var other = throttle.TryAdmit(Address(2), "someone-else");
        _time.Advance(TimeSpan.FromSeconds(15));

        Assert.NotNull(refused);
        Assert.Equal("Too many sign-in attempts from your address", refused.Message);
        Assert.Equal(TimeSpan.FromSeconds(60), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(15), later?.RetryAfter);
        Assert.Null(other);
        Assert.Null(throttle.TryAdmit(Address(1), "someone-else"));
    }

    [Fact]
    public void TryAdmit_OneUserNameFromManyAddresses_IsRefusedAtItsLimit_OtherNamesAreNot()
    {
        var throttle = Throttle();
        for (var i = 0; i < LoginThrottle.PerUser; i++)
        {
            Assert.Null(throttle.TryAdmit(Address(i), "alice"));
        }

        var refused = throttle.TryAdmit(Address(1000), "alice");

        Assert.Equal("Too many sign-in attempts for this user", refused?.Message);
        Assert.Null(throttle.TryAdmit(Address(1000), "bob"));
        _time.Advance(LoginThrottle.Window);
        Assert.Null(throttle.TryAdmit(Address(1001), "alice"));
    }

    [Fact]
    public void TryAdmit_ALoneAddress_CannotLockAUserOut_ItsRefusedAttemptsCountNowhere()
    {
        var throttle = Throttle();
        var attacker = Address(1);
        for (var i = 0; i < 1000; i++)
        {
            throttle.TryAdmit(attacker, "alice");
        }

        // The attacker used PerClient of alice's PerUser attempts; the rest are alice's, from anywhere else.
        var admitted = Enumerable.Range(2, LoginThrottle.PerUser).Count(i => throttle.TryAdmit(Address(i), "alice") is null);

        Assert.Equal(LoginThrottle.PerUser - LoginThrottle.PerClient, admitted);
        Assert.True(LoginThrottle.PerClient * 2 <= LoginThrottle.PerUser);
    }

    [Fact]
    public void TryAdmit_EveryClientTogether_IsCappedAtTheTotal()
    {
        var throttle = Throttle();
        for (var i = 0; i < LoginThrottle.Total; i++)
        {
            Assert.Null(throttle.TryAdmit(Address(i), "name" + i));
        }

        Assert.Equal("Too many sign-in attempts on this dashboard", throttle.TryAdmit(Address(5000), "fresh")?.Message);
        _time.Advance(LoginThrottle.Window);
        Assert.Null(throttle.TryAdmit(Address(5000), "fresh"));
    }

    [Theory]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("192.0.2.7", "192.0.2.7")]
    public void ClientKey_IsAnIPv6ClientsSlash64_AndAnIPv4AddressHowEverItCame(string address, string key) =>
        Assert.Equal(key, LoginThrottle.ClientKey(IPAddress.Parse(address)));
}
