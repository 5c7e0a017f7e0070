using System.Diagnostics;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Folds the server events of one turn into a <see cref="ModelTurn"/>, whatever the transport.
/// Checks that <c>sequence_number</c> increases and turns terminal failures into <see cref="ModelException"/>. The
/// output items it keeps add up to at most <paramref name="maxOutputBytes"/> (Llm:MaxMessageBytes: a terminal event
/// carrying them all could be no larger).
/// </summary>
internal sealed class TurnAssembler(long startedTimestamp, int maxOutputBytes)
{
    private readonly SortedDictionary<int, JsonObject> _doneItems = [];
    private long _doneBytes;
    private double _firstOutputMs = -1;
    private long _lastSequence = long.MinValue;
    private string? _responseId;

    /// <summary>Whether model output (an output item or a delta) has started: the end of time to first token.</summary>
    public bool SawOutput { get; private set; }

    /// <summary>
    /// Accepts one event (of <paramref name="bytes"/> bytes as received); returns the finished turn on a terminal
    /// success, null while the turn goes on.
    /// </summary>
    public (string ResponseId, IReadOnlyList<ConversationItem> Output, TokenUsage Usage, string? Model)? Accept(JsonObject evt, int bytes = 0)
    {
        ArgumentNullException.ThrowIfNull(evt);
        var type = EventJson.String(evt["type"])
            ?? throw new ModelException(ModelFailureKind.Protocol, "Server event without a string \"type\".");
        if (evt["sequence_number"] is JsonValue seqValue && seqValue.TryGetValue<long>(out var sequence))
        {
            if (sequence <= _lastSequence)
            {
                throw new ModelException(ModelFailureKind.Protocol,
                    $"Server event {type} has sequence_number {sequence} after {_lastSequence}.");
            }
            _lastSequence = sequence;
        }

        SawOutput |= type.StartsWith("response.output_item", StringComparison.Ordinal) || type.EndsWith(".delta", StringComparison.Ordinal);
        if (SawOutput && _firstOutputMs < 0)
        {
            _firstOutputMs = Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds;
        }
        switch (type)
        {
            case "response.created":
            case "response.in_progress":
            case "response.queued":
                _responseId ??= EventJson.String(evt["response"]?["id"]);
                return null;
            case "response.output_item.done":
                if (evt["item"] is JsonObject item && evt["output_index"] is JsonValue idx && idx.TryGetValue<int>(out var index))
                {
                    _doneBytes += bytes;
                    if (_doneBytes > maxOutputBytes)
                    {
                        throw ModelException.MessageTooLarge("The turn's output items", maxOutputBytes);
                    }
                    _doneItems[index] = (JsonObject)item.DeepClone();
                }
                return null;
            case "response.completed":
            case "response.done":
                return Complete(evt["response"] as JsonObject);
            case "response.failed":
                throw Failed(evt["response"] as JsonObject);
            case "response.incomplete":
                var reason = EventJson.String(evt["response"]?["incomplete_details"]?["reason"]) ?? "unknown";
                throw new ModelException(ModelFailureKind.BadRequest, $"The response ended incomplete ({reason}).", "incomplete_" + reason);
            case "error":
                throw FromErrorEvent(evt);
            default:
                return null;
        }
    }

    public TurnAssembler()
        : this(Stopwatch.GetTimestamp(), int.MaxValue)
    {
    }

    /// <summary>The finished turn with its timings, measured from the timestamp the request was sent at.</summary>
    public ModelTurn ToTurn((string ResponseId, IReadOnlyList<ConversationItem> Output, TokenUsage Usage, string? Model) done, int requestBytes)
    {
        var elapsed = Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds;
        return new ModelTurn
        {
            ResponseId = done.ResponseId,
            Output = done.Output,
            Usage = done.Usage,
            TimeToFirstOutputMs = _firstOutputMs < 0 ? elapsed : _firstOutputMs,
            TransportMs = elapsed,
            RequestBytes = requestBytes,
            ResponseModel = done.Model,
        };
    }

    private (string, IReadOnlyList<ConversationItem>, TokenUsage, string?) Complete(JsonObject? response)
    {
        var id = EventJson.String(response?["id"]) ?? _responseId
            ?? throw new ModelException(ModelFailureKind.Protocol, "response.completed carried no response id.");
        // Terminal events may omit output ("sparse" output): rebuild it from output_item.done events.
        IReadOnlyList<ConversationItem> output = response?["output"] is JsonArray array && array.Count > 0
            ? array.OfType<JsonObject>().Select(o => ConversationItem.FromWire((JsonObject)o.DeepClone())).ToList()
            : _doneItems.Values.Select(ConversationItem.FromWire).ToList();
        var model = EventJson.String(response?["model"]);
        return (id, output, TokenUsage.FromJson(response?["usage"]), model);
    }

    private static ModelException Failed(JsonObject? response)
    {
        var code = EventJson.String(response?["error"]?["code"]) ?? "server_error";
        var message = EventJson.String(response?["error"]?["message"]) ?? "The response failed.";
        var kind = code switch
        {
            "rate_limit_exceeded" => ModelFailureKind.RateLimited,
            "server_error" => ModelFailureKind.ServerError,
            _ => ModelFailureKind.BadRequest,
        };
        return new ModelException(kind, $"response.failed: {message}", code, retryAfter: RetryHint.FromMessage(message));
    }

    /// <summary>Both error shapes: the WS envelope <c>{status, error:{code,message}}</c> and the flat streaming one.</summary>
    internal static ModelException FromErrorEvent(JsonObject evt)
    {
        var error = evt["error"] as JsonObject ?? evt;
        var code = EventJson.String(error["code"]) ?? EventJson.String(error["type"]);
        var message = EventJson.String(error["message"]) ?? "The server sent an error.";
        int? status = evt["status"] is JsonValue s && s.TryGetValue<int>(out var st) ? st : null;
        var kind = code switch
        {
            "previous_response_not_found" => ModelFailureKind.PreviousResponseNotFound,
            "websocket_connection_limit_reached" => ModelFailureKind.ConnectionLimit,
            "rate_limit_exceeded" => ModelFailureKind.RateLimited,
            _ when status == 429 => ModelFailureKind.RateLimited,
            _ when status >= 500 || code == "server_error" => ModelFailureKind.ServerError,
            _ => ModelFailureKind.BadRequest,
        };
        return new ModelException(kind, $"Model error {code ?? "unknown"}: {message}", code, status,
            retryAfter: RetryHint.FromHeaders(evt["headers"] as JsonObject ?? error["headers"] as JsonObject) ?? RetryHint.FromMessage(message));
    }
}
