using System.Diagnostics;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Wraps a model port with a span per turn (<c>chat {model}</c>, a client span on <c>AgentWorker.Llm</c>, following the
/// OpenTelemetry GenAI conventions) and the turn metrics (<see cref="ModelTurnMetrics"/>), as M.E.AI's
/// <c>OpenTelemetryChatClient</c> wraps a chat client: the loop itself holds no telemetry. Without a listener a span
/// costs a null check.
/// </summary>
internal sealed class TracedModelPort(IModelPort inner, ModelTurnMetrics metrics) : IModelPort
{
    public IModelConversation OpenConversation(string model, long taskId) =>
        new Conversation(inner.OpenConversation(model, taskId), metrics);

    private sealed class Conversation(IModelConversation inner, ModelTurnMetrics metrics) : IModelConversation
    {
        public ModelEndpoint Endpoint => inner.Endpoint;

        public async Task<TurnResult> RunTurnAsync(TurnRequest request, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            var started = Stopwatch.GetTimestamp();
            var endpoint = inner.Endpoint;
            using var activity = Start(request.Model, endpoint);
            TurnResult result;
            try
            {
                result = await inner.RunTurnAsync(request, cancellationToken);
            }
            catch (Exception ex)
            {
                var errorType = LlmTelemetry.ErrorType(ex);
                if (activity is not null)
                {
                    activity.SetTag("error.type", errorType);
                    activity.SetStatus(ActivityStatusCode.Error, ex.Message);
                }
                metrics.TurnFailed(request.Model, endpoint.ProviderName, errorType, Stopwatch.GetElapsedTime(started).TotalSeconds);
                throw;
            }
            Done(activity, result);
            metrics.Turn(request.Model, endpoint.ProviderName, result, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return result;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private static Activity? Start(string model, ModelEndpoint endpoint)
        {
            var activity = LlmTelemetry.Source.StartActivity("chat " + model, ActivityKind.Client);
            if (activity is not null)
            {
                activity.SetTag("gen_ai.operation.name", "chat");
                activity.SetTag("gen_ai.provider.name", endpoint.ProviderName);
                activity.SetTag("gen_ai.system", endpoint.ProviderName);
                activity.SetTag("gen_ai.request.model", model);
                if (endpoint.Address is { } address)
                {
                    activity.SetTag("server.address", address.Host);
                    activity.SetTag("server.port", address.Port);
                }
            }
            return activity;
        }

        /// <summary>What the turn answered and how it travelled.</summary>
        private static void Done(Activity? activity, TurnResult result)
        {
            if (activity is null)
            {
                return;
            }
            activity.SetTag("gen_ai.response.id", result.ResponseId);
            activity.SetTag("gen_ai.response.model", result.ResponseModel);
            activity.SetTag("gen_ai.usage.input_tokens", result.Usage.InputTokens);
            activity.SetTag("gen_ai.usage.output_tokens", result.Usage.OutputTokens);
            // Not (yet) named by the GenAI conventions: ours.
            activity.SetTag("agent.usage.cached_input_tokens", result.Usage.CachedTokens);
            activity.SetTag("agent.usage.reasoning_tokens", result.Usage.ReasoningTokens);
            activity.SetTag("agent.model.transport", result.Transport switch
            {
                ModelTransport.WebSocket => "ws",
                ModelTransport.Http => "http",
                _ => null,
            });
            activity.SetTag("agent.model.socket_reused", result.SocketReused);
            activity.SetTag("agent.model.chained", result.Chained);
            activity.SetTag("agent.model.attempts", result.Attempts);
            activity.SetTag("agent.model.recovery", result.Recovery);
            activity.SetTag("agent.model.time_to_first_event_ms", result.TimeToFirstOutputMs);
            activity.SetTag("agent.model.request_bytes", result.RequestBytes);
        }
    }
}
