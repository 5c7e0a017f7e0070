using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Llm;

/// <summary>The real socket, pooled, against the simulator over real sockets.</summary>
public sealed class ResponsesSocketTests : IAsyncLifetime
{
    private SimulatorHost _sim = null!; // Set in InitializeAsync.

    public async ValueTask InitializeAsync() => _sim = await SimulatorHost.StartAsync();

    public async ValueTask DisposeAsync() => await _sim.DisposeAsync();

    private SocketPool Pool(int maxSockets = 2, string key = SimulatorHost.ApiKey, int maxMessageBytes = 16 * 1024 * 1024)
    {
        var options = Options.Create(new LlmOptions
        {
            BaseUrl = _sim.BaseUrl,
            ApiKey = key,
            Model = "sim-1",
            MaxSockets = maxSockets,
            LeaseTimeout = TimeSpan.FromMilliseconds(200),
            MaxMessageBytes = maxMessageBytes,
        });
        return new SocketPool(options, new WebSocketConnector(options, TimeProvider.System), TimeProvider.System, NullLogger<SocketPool>.Instance);
    }

    private static JsonObject Create(string text, string? previous = null)
    {
        var create = new JsonObject
        {
            ["type"] = "response.create",
            ["model"] = "sim-1",
            ["store"] = false,
            ["input"] = new JsonArray(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text }),
        };
        if (previous is not null)
        {
            create["previous_response_id"] = previous;
        }
        return create;
    }

    [Fact]
    public async Task Lease_ReturnedSocket_IsReusedWithoutANewHandshake()
    {
        await using var pool = Pool();
        var ct = TestContext.Current.CancellationToken;

        string firstId;
        await using (var lease = await pool.LeaseAsync(ct))
        {
            firstId = lease.Socket.Id;
            Assert.False(lease.Reused);
            await lease.Socket.RunTurnAsync(Create("hello"), ct);
        }
        await using var again = await pool.LeaseAsync(ct);

        Assert.Equal(firstId, again.Socket.Id);
        Assert.True(again.Reused);
        Assert.Equal(1, pool.Statistics.Handshakes);
        Assert.Equal(1, pool.Statistics.Reuses);
        Assert.Equal(1, _sim.Statistics.Connections);
    }

    [Fact]
    public async Task Lease_AllSocketsLeased_TimesOutNamingTheSetting()
    {
        await using var pool = Pool(maxSockets: 2);
        var ct = TestContext.Current.CancellationToken;
        await using var one = await pool.LeaseAsync(ct);
        await using var two = await pool.LeaseAsync(ct);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => pool.LeaseAsync(ct));

        Assert.Contains("Llm:MaxSockets", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, pool.Statistics.Leased);
    }

    [Fact]
    public async Task Lease_BadKey_FailsWithHandshakeRefusedAndFreesTheSlot()
    {
        await using var pool = Pool(maxSockets: 1, key: "wrong");
        var ct = TestContext.Current.CancellationToken;

        var first = await Assert.ThrowsAsync<ModelException>(() => pool.LeaseAsync(ct));
        var second = await Assert.ThrowsAsync<ModelException>(() => pool.LeaseAsync(ct));

        Assert.Equal(ModelFailureKind.HandshakeRefused, first.Kind);
        Assert.Equal(401, first.Status);
        Assert.Equal(ModelFailureKind.HandshakeRefused, second.Kind); // not a TimeoutException: the slot was freed
    }

    [Fact]
    public async Task RunTurn_ChainedOnTheSameSocket_Works_AndOnAnotherSocketIsNotFound()
    {
        await using var pool = Pool();
        var ct = TestContext.Current.CancellationToken;
        await using var a = await pool.LeaseAsync(ct);
        await using var b = await pool.LeaseAsync(ct);

        var first = await a.Socket.RunTurnAsync(Create("one"), ct);
        var chained = await a.Socket.RunTurnAsync(Create("two", first.ResponseId), ct);
        var error = await Assert.ThrowsAsync<ModelException>(() => b.Socket.RunTurnAsync(Create("three", chained.ResponseId), ct));

        Assert.True(chained.Usage.CachedTokens > 0);
        Assert.Equal(ModelFailureKind.PreviousResponseNotFound, error.Kind);
        Assert.True(error.IsRecoverableOnFreshSocket);
        Assert.Null(b.Socket.LastResponseId);
    }

    [Fact]
    public async Task RunTurn_AMessageOfExactlyTheCap_IsRead_OneByteMoreFailsTheTurnAsTooLarge_AndBreaksTheSocket()
    {
        const int cap = 100_000;
        await using var pool = Pool(maxMessageBytes: cap);
        var ct = TestContext.Current.CancellationToken;
        await SimulatorFaults.InjectAsync(_sim.BaseUrl, new { kind = "oversized", bytes = cap, after_events = 2 }, ct);
        await SimulatorFaults.InjectAsync(_sim.BaseUrl, new { kind = "oversized", bytes = cap + 1, after_events = 2, skip = 1 }, ct);
        await using var lease = await pool.LeaseAsync(ct);

        await lease.Socket.RunTurnAsync(Create("at the cap"), ct);
        var error = await Assert.ThrowsAsync<ModelException>(() => lease.Socket.RunTurnAsync(Create("over it"), ct));

        Assert.Equal(ModelFailureKind.MessageTooLarge, error.Kind);
        Assert.False(error.IsTransient || error.IsRecoverableOnFreshSocket);
        Assert.Contains("Llm:MaxMessageBytes", error.Message, StringComparison.Ordinal);
        Assert.False(lease.Socket.IsOpen); // the rest of the message is unread: the pool discards it
    }
}
