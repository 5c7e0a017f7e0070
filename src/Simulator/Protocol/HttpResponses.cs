using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Simulator.Protocol;

/// <summary>
/// <c>POST /v1/responses</c>: JSON, or SSE with <c>stream:true</c>. Responses with <c>store</c> (the default) are kept,
/// so HTTP can continue them; a <c>store:false</c> response cannot be continued over HTTP.
/// </summary>
internal sealed class HttpResponses(SimulatorOptions options, SimulatorStatistics statistics, Faults.FaultInjector faults)
{
    private readonly ConcurrentDictionary<string, List<JsonObject>> _stored = new(StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        JsonObject? request;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException)
        {
            request = null;
        }
        if (request is null)
        {
            await WriteErrorAsync(context, 400, SimulatorErrors.Body("invalid_request_error", "invalid_json", "The body is not a JSON object."));
            return;
        }
        var previousId = (string?)request["previous_response_id"];
        List<JsonObject>? previous = null;
        if (previousId is not null && !_stored.TryGetValue(previousId, out previous))
        {
            var notFound = SimulatorErrors.PreviousResponseNotFound(previousId);
            notFound.Remove("type");
            notFound.Remove("status");
            await WriteErrorAsync(context, 400, notFound);
            return;
        }
        var (prepared, error, status) = ResponseEngine.Prepare(request, previous, options);
        if (prepared is null)
        {
            await WriteErrorAsync(context, status, error!); // Prepare returns an error whenever it returns no response.
            return;
        }
        statistics.ResponseStarted(new RequestRecord("http", "http", previousId, (request["input"] as JsonArray)?.Count ?? 1, prepared.Id));
        if (request["store"] is not JsonValue store || !store.TryGetValue<bool>(out var keep) || keep)
        {
            _stored[prepared.Id] = prepared.Context;
        }

        using var inFlight = statistics.InFlight((string?)request["model"] ?? "");
        var pacer = Pacer.For(options, prepared.Usage, options.HttpRequestOverheadMs, cancellationToken);
        var events = ResponseEvents.StreamAsync(prepared.Id, request, prepared.Output, prepared.Usage, pacer.PaceAsync);
        if (request["stream"] is JsonValue stream && stream.TryGetValue<bool>(out var streaming) && streaming)
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            var body = context.Response.Body;
            var fault = faults.TakeHttpResponseFault();
            var sent = 0;
            await foreach (var evt in events)
            {
                if (fault is not null && sent == fault.AfterEvents)
                {
                    await body.WriteAsync("event: response.output_text.delta\ndata: "u8.ToArray(), cancellationToken);
                    await Faults.OversizedEvent.WriteAsync(fault.Bytes, (piece, _) => body.WriteAsync(piece, cancellationToken).AsTask());
                    await body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
                }
                await body.WriteAsync(Encoding.UTF8.GetBytes($"event: {(string?)evt["type"]}\ndata: "), cancellationToken);
                await body.WriteAsync(WireJson.Serialize(evt, prepared.UnpairedSurrogates), cancellationToken);
                await body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
                await body.FlushAsync(cancellationToken);
                sent++;
            }
            return;
        }
        JsonNode? completed = null;
        await foreach (var evt in events)
        {
            completed = evt["response"];
        }
        context.Response.ContentType = "application/json";
        // The stream always ends with response.completed.
        await context.Response.Body.WriteAsync(WireJson.Serialize(completed!, prepared.UnpairedSurrogates), cancellationToken);
    }

    internal static async Task WriteErrorAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
