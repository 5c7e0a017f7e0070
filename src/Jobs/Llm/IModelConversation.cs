namespace AgentWorker.Jobs.Llm;

/// <summary>
/// The model side of one run: turns in order, one at a time. What travelled before (a socket lease, the chaining
/// cursor) is the implementation's; disposing releases it.
/// </summary>
internal interface IModelConversation : IAsyncDisposable
{
    /// <summary>Who answers the turns: for spans and metrics.</summary>
    ModelEndpoint Endpoint { get; }

    /// <summary>
    /// Runs one turn. <see cref="TurnRequest.Items"/> is the whole conversation so far; across the turns of one
    /// conversation it only grows, each turn's output appended as returned (an implementation that chains sends only
    /// what the server does not hold).
    /// </summary>
    /// <exception cref="ModelException">The turn failed after the implementation's own recovery and retries.</exception>
    Task<TurnResult> RunTurnAsync(TurnRequest request, CancellationToken cancellationToken);
}
