using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Tests.Llm;

/// <summary>A socket that only exists for the pool: no network.</summary>
internal sealed class FakeSocket(string id, DateTimeOffset createdAt) : IModelSocket
{
    public string Id { get; } = id;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public bool IsOpen => !Disposed && !Broken;

    public bool Broken { get; set; }

    public bool Disposed { get; private set; }

    public string? LastResponseId => null;

    public int TurnCount => 0;

    public Task<ModelTurn> RunTurnAsync(JsonObject createEvent, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A fake socket runs no turns.");

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Hands out <see cref="FakeSocket"/>s; a connect can be made to fail or to wait for the test.</summary>
internal sealed class FakeConnector(TimeProvider time) : ISocketConnector
{
    private int _count;

    public List<FakeSocket> Opened { get; } = [];

    /// <summary>When set, the next connect waits for it: a result opens, an exception fails.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public async Task<IModelSocket> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Gate is { } gate)
        {
            Gate = null;
            await gate.Task.WaitAsync(cancellationToken);
        }
        var socket = new FakeSocket("fake-" + Interlocked.Increment(ref _count), time.GetUtcNow());
        lock (Opened)
        {
            Opened.Add(socket);
        }
        return socket;
    }
}
