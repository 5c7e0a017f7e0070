using System.Text;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Tests.Llm;

/// <summary>Server-sent events read as bytes, one event at a time, never more of one than the cap.</summary>
public sealed class SseReaderTests
{
    private static async Task<List<string>> EventsAsync(string body, int max = 1024)
    {
        var reader = new SseReader(new MemoryStream(Encoding.UTF8.GetBytes(body)), max);
        var events = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken) is { } data)
        {
            events.Add(Encoding.UTF8.GetString(data.Span));
        }
        return events;
    }

    [Fact]
    public async Task ReadAsync_AnyLineEnding_DataLinesJoinedWithLf_OtherFieldsAndCommentsIgnored()
    {
        var events = await EventsAsync("event: a\ndata: {\"x\":\ndata:1}\n\n: comment\r\nid: 7\r\ndata: two\r\n\r\ndata: three\r\rdata: cut off");

        Assert.Equal(["{\"x\":\n1}", "two", "three"], events);
    }

    [Fact]
    public async Task ReadAsync_AnEventOfExactlyTheCap_IsRead()
    {
        var events = await EventsAsync("data: " + new string('x', 1018) + "\n\n");

        Assert.Equal(1018, Assert.Single(events).Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public async Task ReadAsync_AnEventOverTheCap_FailsTheTurnAsTooLarge(int lines)
    {
        var body = string.Concat(Enumerable.Repeat("data: " + new string('x', 2000 / lines) + "\n", lines)) + "\n";

        var error = await Assert.ThrowsAsync<ModelException>(() => EventsAsync(body));

        Assert.Equal(ModelFailureKind.MessageTooLarge, error.Kind);
        Assert.False(error.IsTransient || error.IsRecoverableOnFreshSocket);
        Assert.Contains("Llm:MaxMessageBytes", error.Message, StringComparison.Ordinal);
    }
}
