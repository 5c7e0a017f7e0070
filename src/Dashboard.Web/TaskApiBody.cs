using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentWorker.Dashboard;

/// <summary>
/// Reading a JSON body of the task API: the content type is checked (415), and whatever the serializer refuses is said
/// in the API's words, naming the field and its rule, never a .NET type.
/// </summary>
internal static partial class TaskApiBody
{
    private const string DateTimeRule = "a date-time in ISO 8601 with its offset, e.g. \"2026-01-01T02:00:00Z\"";

    /// <summary>What each field of a body must be.</summary>
    private static readonly Dictionary<string, string> s_fieldRules = new(StringComparer.Ordinal)
    {
        ["prompt"] = "a string",
        ["instructions"] = "a string",
        ["model"] = "a string",
        ["priority"] = "an integer from -10 to 10",
        ["max_steps"] = "an integer from 1 to 200",
        ["idempotency_key"] = "a string",
        ["run_at"] = DateTimeRule,
        ["deadline"] = DateTimeRule,
        ["tool_config"] = "a JSON object",
        ["name"] = "a string",
        ["prompts"] = "an array of strings",
        ["template"] = "a string",
        ["source_sql"] = "a string",
        ["follow_up"] = "a string",
        ["cron"] = "a string",
        ["time_zone"] = "a string",
        ["deadline_after"] = "a duration such as \"02:00:00\" or \"1.00:00:00\"",
        ["enabled"] = "true or false",
        ["batch_id"] = "an integer: an open batch's id",
    };

    internal readonly record struct Body<T>(T? Value, IResult? Problem);

    /// <summary>
    /// The body as <typeparamref name="T"/>, or the problem to answer with. An <paramref name="optional"/> body may be
    /// absent (no content); a present one must be JSON.
    /// </summary>
    public static async Task<Body<T>> ReadAsync<T>(HttpRequest request, bool optional, CancellationToken cancellationToken)
        where T : class
    {
        var title = Title<T>();
        if (optional && request.ContentLength is 0 or null && string.IsNullOrEmpty(request.ContentType))
        {
            return new Body<T>(null, null);
        }
        if (!TaskApi.IsJson(request))
        {
            return new Body<T>(null, Results.Problem(title: "Unsupported media type",
                detail: $"The body must be JSON sent as 'Content-Type: application/json'; got '{request.ContentType ?? "no content type"}'.",
                statusCode: StatusCodes.Status415UnsupportedMediaType));
        }
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, TaskApi.Json, cancellationToken);
            return value is null
                ? new Body<T>(null, Invalid(title, $"The body must be a JSON object with any of: {Fields<T>()}."))
                : new Body<T>(value, null);
        }
        catch (JsonException ex)
        {
            return new Body<T>(null, Invalid(title, Describe<T>(ex)));
        }
    }

    public static IResult Invalid(string title, string detail) =>
        Results.Problem(title: title, detail: InApiWords(detail), statusCode: StatusCodes.Status400BadRequest);

    /// <summary>A refusal of the SQL API without its function's name ("agent.enqueue: max_steps ..." reads "max_steps ...").</summary>
    public static string InApiWords(string message) => SqlFunctionPrefix().Replace(message, "");

    /// <summary>A body the serializer refused, said in the API's words: the field and its rule, never a .NET type.</summary>
    internal static string Describe<T>(JsonException exception)
    {
        var message = exception.Message;
        if (UnknownProperty().Match(message) is { Success: true } unknown)
        {
            return $"\"{unknown.Groups[1].Value}\" is not a field of {Title<T>()["Invalid ".Length..] switch { "retry" => "a retry", "batch" => "a batch", "schedule" => "a schedule", _ => "a task" }}. The fields are: {Fields<T>()}.";
        }
        if (DuplicateProperty().Match(message) is { Success: true } duplicate)
        {
            return $"\"{duplicate.Groups[1].Value}\" appears more than once in the body; give each field once.";
        }
        // "$.prompts[2]" is the third item of "prompts".
        var field = exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..].Split('[')[0] : null;
        if (field is not null && exception.InnerException is InvalidOperationException { Message: var inner } && inner.Contains("UTF-16", StringComparison.Ordinal))
        {
            return $"\"{field}\" holds half a surrogate pair (a lone \\uD800-\\uDFFF escape), which is not text.";
        }
        if (field is not null && s_fieldRules.TryGetValue(field, out var rule))
        {
            return $"\"{field}\" must be {rule}.";
        }
        if (exception.Message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "The body is nested too deeply (at most 64 levels).";
        }
        var where = exception.LineNumber is { } line ? $" (line {line + 1}, position {exception.BytePositionInLine + 1})" : "";
        return $"The body is not a valid JSON object{where}. Expected a JSON object with any of: {Fields<T>()}.";
    }

    /// <summary>The body's fields in the API's words, the required ones marked.</summary>
    private static string Fields<T>() => string.Join(", ", typeof(T).GetProperties()
        .Where(p => p.Name != "EqualityContract")
        .Select(p => TaskApi.Json.PropertyNamingPolicy!.ConvertName(p.Name))
        .Select(name => name is "prompt" or "name" or "cron" ? name + " (required)" : name));

    private static string Title<T>() =>
        typeof(T) == typeof(RetryTaskRequest) ? "Invalid retry"
        : typeof(T) == typeof(CreateBatchRequest) ? "Invalid batch"
        : typeof(T) == typeof(ScheduleBody) || typeof(T) == typeof(CreateScheduleRequest) ? "Invalid schedule"
        : "Invalid task";

    [GeneratedRegex("The JSON property '(.+?)' could not be mapped")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex("Duplicate property '(.+?)'")]
    private static partial Regex DuplicateProperty();

    [GeneratedRegex(@"^agent\.\w+: ")]
    private static partial Regex SqlFunctionPrefix();
}
