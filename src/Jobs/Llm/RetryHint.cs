using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentWorker.Jobs.Llm;

/// <summary>Reads the server's "retry after" hint from headers or from an error message.</summary>
internal static partial class RetryHint
{
    public static TimeSpan? FromHeaders(JsonObject? headers)
    {
        if (headers is null)
        {
            return null;
        }
        foreach (var (name, value) in headers)
        {
            if (value is JsonValue v && double.TryParse(v.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                if (name.Equals("retry-after-ms", StringComparison.OrdinalIgnoreCase))
                {
                    return Delay(number, 1);
                }
                if (name.Equals("retry-after", StringComparison.OrdinalIgnoreCase))
                {
                    return Delay(number, 1000);
                }
            }
        }
        return null;
    }

    public static TimeSpan? FromHeaders(HttpResponseHeaders headers)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var millis))
        {
            return Delay(millis, 1);
        }
        return headers.RetryAfter?.Delta;
    }

    /// <summary>The hint of an SDK client's response (System.ClientModel, as the OpenAI and Azure clients report one).</summary>
    public static TimeSpan? FromHeaders(System.ClientModel.Primitives.PipelineResponseHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis))
        {
            return Delay(millis, 1);
        }
        return headers.TryGetValue("retry-after", out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? Delay(seconds, 1000)
            : null;
    }

    public static TimeSpan? FromMessage(string? message)
    {
        if (message is null || TryAgainIn().Match(message) is not { Success: true } match)
        {
            return null;
        }
        var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return Delay(amount, match.Groups[2].Value == "ms" ? 1 : 1000);
    }

    /// <summary>
    /// A hint the server sent, as a delay: none when it is negative or not a number, at most a day when it is huge (the
    /// caller caps it lower: Llm:RetryMaxDelay). TimeSpan itself throws on either.
    /// </summary>
    private static TimeSpan? Delay(double amount, double millisecondsPerUnit) =>
        double.IsFinite(amount) && amount >= 0 ? TimeSpan.FromMilliseconds(Math.Min(amount * millisecondsPerUnit, TimeSpan.FromDays(1).TotalMilliseconds)) : null;

    [GeneratedRegex(@"try again in ([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b", RegexOptions.IgnoreCase)]
    private static partial Regex TryAgainIn();
}
