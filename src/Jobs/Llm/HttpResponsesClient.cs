using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
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
    public async Task<ModelTurn> RunTurnAsync(JsonObject createEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createEvent);
        var body = (JsonObject)createEvent.DeepClone();
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
            var assembler = new TurnAssembler(started);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var data = new StringBuilder();
            try
            {
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        data.Append(line.AsSpan(5).TrimStart(' '));
                        continue;
                    }
                    if (line.Length != 0 || data.Length == 0)
                    {
                        continue; // event:, id:, comments, or a blank line with nothing pending
                    }
                    var evt = JsonNode.Parse(data.ToString()) as JsonObject
                        ?? throw new ModelException(ModelFailureKind.Protocol, "An SSE data record is not a JSON object.");
                    data.Clear();
                    if (assembler.Accept(evt) is { } turn)
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

    private static async Task<ModelException> RefusedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? code = null;
        var message = response.ReasonPhrase ?? "request refused";
        try
        {
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))?["error"];
            code = (string?)error?["code"];
            message = (string?)error?["message"] ?? message;
        }
        catch (JsonException)
        {
            // Not the documented error body: the status alone has to do.
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
}
