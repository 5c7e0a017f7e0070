using AgentWorker.Jobs.Llm;

namespace AgentWorker.Tests.Llm;

/// <summary>A server's retry hint is a wait, whatever number it holds: never an overflow, never negative.</summary>
public sealed class RetryHintTests
{
    [Theory]
    [InlineData("Please try again in 1.5s.", 1500.0)]
    [InlineData("Please try again in 250ms.", 250.0)]
    [InlineData("Please try again in 99999999999999999999999s.", 86_400_000.0)]
    public void FromMessage_ReadsTheHint_AtMostADay(string message, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), RetryHint.FromMessage(message));

    [Theory]
    [InlineData("1e300", 86_400_000.0)]
    [InlineData("-5", null)]
    [InlineData("NaN", null)]
    [InlineData("120", 120.0)]
    public void FromHeaders_ReadsRetryAfterMs_AtMostADay_NoneWhenNegativeOrNotANumber(string value, double? milliseconds)
    {
        var hint = RetryHint.FromHeaders(new System.Text.Json.Nodes.JsonObject { ["retry-after-ms"] = value });

        Assert.Equal(milliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null, hint);
    }
}
