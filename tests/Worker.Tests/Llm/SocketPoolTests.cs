using AgentWorker.Jobs.Llm;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentWorker.Tests.Llm;

/// <summary>The pool's bookkeeping with fake sockets and a fake clock: bounds, fairness, lifetimes, shutdown.</summary>
public sealed class SocketPoolTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));
    private readonly FakeConnector _connector;

    public SocketPoolTests() => _connector = new FakeConnector(_time);

    private SocketPool Pool(int maxSockets = 2, int minWarm = 0) => new(Options.Create(new LlmOptions
    {
        Model = "m",
        MaxSockets = maxSockets,
        MinWarm = minWarm,
        LeaseTimeout = TimeSpan.FromSeconds(5),
        IdleTimeout = TimeSpan.FromMinutes(5),
        MaxLifetime = TimeSpan.FromMinutes(55),
    }), _connector, _time, NullLogger<SocketPool>.Instance);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lease_AllSocketsLeased_WaitsAndTimesOutAfterLeaseTimeout()
    {
        await using var pool = Pool(maxSockets: 2);
        await using var a = await pool.LeaseAsync(Ct);
        await using var b = await pool.LeaseAsync(Ct);

        var third = pool.LeaseAsync(Ct);
        Assert.False(third.IsCompleted);
        Assert.Equal(1, pool.Statistics.Waiters);
        _time.Advance(TimeSpan.FromSeconds(5));

        await Assert.ThrowsAsync<TimeoutException>(() => third);
        var stats = pool.Statistics;
        Assert.Equal((2, 2, 0, 0), (stats.Total, stats.Leased, stats.Waiters, stats.Idle));
        Assert.Equal(2, _connector.Opened.Count);
    }

    [Fact]
    public async Task Return_WithWaiters_HandsTheSocketToTheFirstWaiterFirst()
    {
        await using var pool = Pool(maxSockets: 1);
        var first = await pool.LeaseAsync(Ct);
        var socket = first.Socket;
        var second = pool.LeaseAsync(Ct);
        var third = pool.LeaseAsync(Ct);

        await first.DisposeAsync();
        var secondLease = await second;
        Assert.False(third.IsCompleted);
        await secondLease.DisposeAsync();
        await using var thirdLease = await third;

        Assert.Same(socket, secondLease.Socket);
        Assert.Same(socket, thirdLease.Socket);
        Assert.True(thirdLease.Reused);
        Assert.Single(_connector.Opened);
        Assert.Equal(2, pool.Statistics.Reuses);
    }

    [Fact]
    public async Task Lease_NewcomerWhileOthersWait_DoesNotOvertakeThem()
    {
        await using var pool = Pool(maxSockets: 1);
        var first = await pool.LeaseAsync(Ct);
        var waiting = pool.LeaseAsync(Ct);

        await first.DisposeAsync();
        var newcomer = pool.LeaseAsync(Ct);
        await using var served = await waiting;

        Assert.False(newcomer.IsCompleted);
        Assert.Equal(1, pool.Statistics.Waiters);
        await served.DisposeAsync();
        await using var late = await newcomer;
        Assert.Equal(0, pool.Statistics.Waiters);
    }

    [Fact]
    public async Task Lease_OpenFails_FreesTheSlotAndWakesAWaiter()
    {
        await using var pool = Pool(maxSockets: 1);
        var gate = new TaskCompletionSource();
        _connector.Gate = gate;
        var failing = pool.LeaseAsync(Ct);
        var waiting = pool.LeaseAsync(Ct);
        Assert.Equal(1, pool.Statistics.Waiters);

        gate.SetException(new ModelException(ModelFailureKind.ConnectionLost, "refused"));

        await Assert.ThrowsAsync<ModelException>(() => failing);
        await using var lease = await waiting;
        Assert.True(lease.Socket.IsOpen);
        Assert.False(lease.Reused);
        var stats = pool.Statistics;
        Assert.Equal((1, 1, 0), (stats.Total, stats.Leased, stats.Waiters));
        Assert.Equal(1, stats.Failures[ModelFailureKind.ConnectionLost]);
    }

    [Fact]
    public async Task Maintain_PastMaxLifetime_RecyclesIdleSocketsButNeverALeasedOne()
    {
        await using var pool = Pool(maxSockets: 2);
        var idle = await pool.LeaseAsync(Ct);
        var leased = await pool.LeaseAsync(Ct);
        var idleSocket = (FakeSocket)idle.Socket;
        var leasedSocket = (FakeSocket)leased.Socket;
        await idle.DisposeAsync();

        _time.Advance(TimeSpan.FromMinutes(56));
        await pool.MaintainAsync(Ct);

        Assert.True(idleSocket.Disposed);
        Assert.False(leasedSocket.Disposed);
        Assert.Equal(1, pool.Statistics.Recycles);
        await leased.DisposeAsync();
        Assert.True(leasedSocket.Disposed); // retired when it came back, past its lifetime
        Assert.Equal(0, pool.Statistics.Total);
    }

    [Fact]
    public async Task Maintain_IdleBeyondIdleTimeout_PrunesDownToMinWarm()
    {
        await using var pool = Pool(maxSockets: 4, minWarm: 1);
        var leases = new List<SocketLease>();
        for (var i = 0; i < 3; i++)
        {
            leases.Add(await pool.LeaseAsync(Ct));
        }
        foreach (var lease in leases)
        {
            await lease.DisposeAsync();
        }

        _time.Advance(TimeSpan.FromMinutes(4));
        await pool.MaintainAsync(Ct);
        Assert.Equal(3, pool.Statistics.Idle);
        _time.Advance(TimeSpan.FromMinutes(2));
        await pool.MaintainAsync(Ct);

        var stats = pool.Statistics;
        Assert.Equal((1, 1, 2L), (stats.Total, stats.Idle, stats.Pruned));
        Assert.Equal(2, _connector.Opened.Count(s => s.Disposed));
    }

    [Fact]
    public async Task Maintain_BelowMinWarm_OpensSocketsAheadOfDemand()
    {
        await using var pool = Pool(maxSockets: 4, minWarm: 2);

        await pool.MaintainAsync(Ct);
        await using var lease = await pool.LeaseAsync(Ct);

        Assert.True(lease.Reused);
        var stats = pool.Statistics;
        Assert.Equal((2, 1, 1, 2L), (stats.Total, stats.Idle, stats.Leased, stats.Handshakes));
    }

    [Fact]
    public async Task Clear_RetiresIdleSocketsNowAndLeasedOnesOnReturn()
    {
        await using var pool = Pool(maxSockets: 2);
        var idle = await pool.LeaseAsync(Ct);
        var leased = await pool.LeaseAsync(Ct);
        var idleSocket = (FakeSocket)idle.Socket;
        var leasedSocket = (FakeSocket)leased.Socket;
        await idle.DisposeAsync();

        pool.Clear();
        Assert.True(idleSocket.Disposed);
        Assert.False(leasedSocket.Disposed);
        await leased.DisposeAsync();
        await using var fresh = await pool.LeaseAsync(Ct);

        Assert.True(leasedSocket.Disposed);
        Assert.False(fresh.Reused);
        Assert.Equal(3, _connector.Opened.Count);
    }

    [Fact]
    public async Task Dispose_WithLeasedSockets_FailsWaitersClosesIdleAndClosesLeasedOnReturn()
    {
        var pool = Pool(maxSockets: 2);
        var idle = await pool.LeaseAsync(Ct);
        var leased = await pool.LeaseAsync(Ct);
        var waiting = pool.LeaseAsync(Ct);
        var idleSocket = (FakeSocket)idle.Socket;
        var leasedSocket = (FakeSocket)leased.Socket;
        await idle.DisposeAsync(); // handed to the waiter
        var waiterLease = await waiting;
        var third = pool.LeaseAsync(Ct);

        await pool.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => third);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pool.LeaseAsync(Ct));
        Assert.False(leasedSocket.Disposed);
        await leased.DisposeAsync();
        await waiterLease.DisposeAsync();
        Assert.True(leasedSocket.Disposed);
        Assert.True(idleSocket.Disposed);
        Assert.Equal(0, pool.Statistics.Total);
    }

    [Fact]
    public async Task Return_BrokenSocket_IsDiscardedAndItsSlotServesTheNextLease()
    {
        await using var pool = Pool(maxSockets: 1);
        var lease = await pool.LeaseAsync(Ct);
        var broken = (FakeSocket)lease.Socket;
        var waiting = pool.LeaseAsync(Ct);

        broken.Broken = true;
        await lease.DisposeAsync();
        await using var next = await waiting;

        Assert.True(broken.Disposed);
        Assert.NotSame(broken, next.Socket);
        Assert.Equal((1, 1), (pool.Statistics.Total, pool.Statistics.Leased));
    }

    [Fact]
    public async Task Renew_InsideALease_ReplacesTheSocketAndKeepsTheSlot()
    {
        await using var pool = Pool(maxSockets: 1);
        await using var lease = await pool.LeaseAsync(Ct);
        var old = (FakeSocket)lease.Socket;

        await lease.RenewAsync(Ct);

        Assert.True(old.Disposed);
        Assert.NotSame(old, lease.Socket);
        Assert.False(lease.Reused);
        Assert.Equal((1, 1), (pool.Statistics.Total, pool.Statistics.Leased));
    }

    [Fact]
    public async Task Connect_HandshakeRefused_ClearsEveryIdleSocket()
    {
        await using var pool = Pool(maxSockets: 2);
        var idle = await pool.LeaseAsync(Ct);
        var leased = await pool.LeaseAsync(Ct);
        var idleSocket = (FakeSocket)idle.Socket;
        await idle.DisposeAsync();
        Assert.Equal(1, pool.Statistics.Idle);
        var gate = new TaskCompletionSource();
        _connector.Gate = gate;

        var renewing = leased.RenewAsync(Ct); // reconnects: the key is refused
        gate.SetException(new ModelException(ModelFailureKind.HandshakeRefused, "401", status: 401));

        await Assert.ThrowsAsync<ModelException>(() => renewing);
        Assert.True(idleSocket.Disposed);
        Assert.Equal(0, pool.Statistics.Idle);
        await leased.DisposeAsync();
        var stats = pool.Statistics;
        Assert.Equal((0, 0), (stats.Total, stats.Leased));
        Assert.Equal(1, stats.Failures[ModelFailureKind.HandshakeRefused]);
    }
}
