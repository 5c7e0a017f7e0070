using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// One turn as <c>POST /responses</c> with <c>stream:true</c>, read as server-sent events into the same event model
/// as the socket. It cannot continue a <c>store:false</c> socket response, so it always sends the full context.
/// </summary>
internal sealed class HttpResponsesClient(HttpClient http, IOptions<LlmOptions> options)
{
    /// <summary>Runs <paramref name="createEvent"/> (a <c>response.create</c>, the caller's to give away: it becomes the body).</summary>
    public async Task<ModelTurn> RunTurnAsync(JsonObject createEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createEvent);
        var body = createEvent;
        body.Remove("type");
        body.Remove("generate");
        body.Remove("previous_response_id");
        body["stream"] = true;
        var payload = JsonSerializer.SerializeToUtf8Bytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.ResponsesHttpUri())
        {
            Content = new ByteArrayContent(payload) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (options.Value.ResolveApiKey() is { Length: > 0 } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        foreach (var (name, value) in options.Value.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ModelException(ModelFailureKind.ConnectionLost, $"POST {request.RequestUri} failed: {ex.Message}", inner: ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await RefusedAsync(response, cancellationToken);
            }
            var limit = options.Value.MaxMessageBytes;
            var assembler = new TurnAssembler(started, limit);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var reader = new SseReader(stream, limit);
            try
            {
                while (await reader.ReadAsync(cancellationToken) is { } data)
                {
                    var evt = EventJson.Parse(data.Span)
                        ?? throw new ModelException(ModelFailureKind.Protocol, "An SSE data record is not a JSON object.");
                    if (assembler.Accept(evt, data.Length) is { } turn)
                    {
                        return assembler.ToTurn(turn, payload.Length);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or JsonException)
            {
                throw new ModelException(ex is JsonException ? ModelFailureKind.Protocol : ModelFailureKind.ConnectionLost,
                    $"The SSE stream failed mid-turn: {ex.Message}", inner: ex);
            }
            throw new ModelException(ModelFailureKind.ConnectionLost, "The SSE stream ended before a terminal event.");
        }
    }

    private async Task<ModelException> RefusedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? code = null;
        var message = response.ReasonPhrase ?? "request refused";
        try
        {
            var error = EventJson.Parse(await ErrorBodyAsync(response, cancellationToken))?["error"];
            code = EventJson.String(error?["code"]);
            message = EventJson.String(error?["message"]) ?? message;
        }
        catch (Exception ex) when (ex is JsonException or IOException or HttpRequestException
            || ex is ModelException { Kind: ModelFailureKind.MessageTooLarge })
        {
            // Not the documented error body (or none we can read): the status alone has to do.
        }
        var kind = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ModelFailureKind.HandshakeRefused,
            HttpStatusCode.TooManyRequests => ModelFailureKind.RateLimited,
            _ when status >= 500 => ModelFailureKind.ServerError,
            _ => ModelFailureKind.BadRequest,
        };
        return new ModelException(kind, $"HTTP {status} {code}: {message}", code, status,
            retryAfter: RetryHint.FromHeaders(response.Headers) ?? RetryHint.FromMessage(message));
    }

    /// <summary>An error response's body, read no further than Llm:MaxMessageBytes.</summary>
    private async Task<byte[]> ErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxMessageBytes;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (body.Length + read > limit)
            {
                throw ModelException.MessageTooLarge("An error response's body", limit);
            }
            body.Write(chunk, 0, read);
        }
        return body.ToArray();
    }
}
