using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Llm;

/// <summary>One persistent connection to the model, as the pool manages it. <see cref="ResponsesSocket"/> in production.</summary>
internal interface IModelSocket : IAsyncDisposable
{
    string Id { get; }

    DateTimeOffset CreatedAt { get; }

    /// <summary>False once the socket closed, failed mid-turn, or was disposed: the pool then discards it.</summary>
    bool IsOpen { get; }

    /// <summary>The last response this socket completed: the only one the server can continue on it.</summary>
    string? LastResponseId { get; }

    int TurnCount { get; }

    Task<ModelTurn> RunTurnAsync(JsonObject createEvent, CancellationToken cancellationToken);
}
