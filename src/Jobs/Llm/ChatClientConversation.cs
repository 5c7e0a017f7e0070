using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// One run's conversation with an <see cref="IChatClient"/>. Keeps the run's items as chat messages, converting only the
/// items added since the last turn, and sends them all each turn.
/// </summary>
internal sealed class ChatClientConversation(ChatClientModel owner, string model, IChatClient client, TurnRetries retries)
    : IModelConversation
{
    private readonly List<ChatMessage> _messages = [];

    /// <summary>How many of the conversation's items <see cref="_messages"/> already holds.</summary>
    private int _converted;

    public ModelEndpoint Endpoint => owner.Endpoint;

    public async Task<TurnResult> RunTurnAsync(TurnRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ChatMessages.Append(_messages, request.Items, _converted);
        _converted = request.Items.Count;
        var options = Options(request);
        var attempts = 0;
        var recovery = new List<string>();
        var (response, elapsedMs) = await retries.Pipeline.ExecuteAsync(async token =>
        {
            if (attempts++ > 0)
            {
                recovery.Add("retried after a wait");
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                var answer = await client.GetResponseAsync(_messages, options, token);
                return (answer, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception ex) when (ChatClientFailures.ToModelException(ex, model, token) is { } failure)
            {
                throw failure;
            }
        }, cancellationToken);
        var output = ChatMessages.Output(response);
        // The answer is the client's; the run's own copy of it is what comes back through the items next turn.
        _converted += output.Count;
        ChatMessages.Append(_messages, output, 0);
        var usage = response.Usage;
        return new TurnResult
        {
            ResponseId = response.ResponseId,
            Output = output,
            Usage = new TokenUsage(usage?.InputTokenCount ?? 0, usage?.CachedInputTokenCount ?? 0, usage?.OutputTokenCount ?? 0,
                usage?.ReasoningTokenCount ?? 0),
            ResponseModel = response.ModelId,
            // Not streamed: the first output comes with the whole answer.
            TimeToFirstOutputMs = elapsedMs,
            TransportMs = elapsedMs,
            Chained = false,
            Attempts = attempts,
            Recovery = recovery.Count == 0 ? null : string.Join("; ", recovery),
        };
    }

    private static ChatOptions Options(TurnRequest request) => new()
    {
        ModelId = request.Model,
        Instructions = request.Instructions,
        Tools = [.. request.Tools.ChatTools],
        ToolMode = ChatToolMode.Auto,
        AllowMultipleToolCalls = true,
        MaxOutputTokens = request.MaxOutputTokens,
        Reasoning = request.ReasoningEffort is { } effort ? new ReasoningOptions { Effort = Effort(effort) } : null,
    };

    /// <summary>The Responses effort as M.E.AI's (which has no <c>minimal</c>: the nearest is <c>Low</c>).</summary>
    private static ReasoningEffort Effort(string effort) => effort switch
    {
        "none" => ReasoningEffort.None,
        "minimal" or "low" => ReasoningEffort.Low,
        "medium" => ReasoningEffort.Medium,
        _ => ReasoningEffort.High,
    };

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
