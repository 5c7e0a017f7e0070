using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Tests.Llm;

/// <summary>Server events parse into JSON every later reader can use, whatever text the server put in them.</summary>
public sealed class EventJsonTests
{
    private static JsonObject Parse(string json) => EventJson.Parse(Encoding.UTF8.GetBytes(json))!;

    [Theory]
    [InlineData("item_id")]
    [InlineData("delta")]
    [InlineData("encrypted_content")]
    [InlineData("call_id")]
    public void Parse_HalfASurrogatePairAnywhere_IsKeptAsItsEscapesText_AndTheEventCanBeReadClonedAndWritten(string field)
    {
        var evt = Parse("""{"type":"x","nested":{"list":["\udbff"]},"FIELD":"a\ud800b\udc00c"}""".Replace("FIELD", field, StringComparison.Ordinal));

        Assert.Equal("""a\ud800b\udc00c""", EventJson.String(evt[field]));
        Assert.Equal("""\udbff""", (string?)evt["nested"]!["list"]![0]);
        Assert.Contains("""\\ud800""", evt.DeepClone().ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_APairAndAnEscapedBackslash_AreLeftAlone()
    {
        var evt = Parse("""{"type":"x","pair":"\ud83d\ude00","text":"\\ud800"}""");

        Assert.Equal("\U0001F600", (string?)evt["pair"]);
        Assert.Equal("""\ud800""", (string?)evt["text"]); // the text the server meant: a backslash, then ud800
    }

    [Fact]
    public void Parse_BytesThatAreNotUtf8_BecomeTheReplacementCharacter()
    {
        byte[] frame = [.. """{"type":"x","delta":"a"""u8, 0xFF, .. "b\"}"u8];

        Assert.Equal("a\uFFFDb", (string?)EventJson.Parse(frame)!["delta"]);
    }

    [Fact]
    public void Parse_APropertyNamedTwice_IsMalformed() =>
        Assert.Throws<JsonException>(() => Parse("""{"type":"a","item":{"type":"b","type":"c"}}"""));

    [Fact]
    public void String_OfAnythingButAString_IsNull()
    {
        var evt = Parse("""{"number":5,"object":{},"text":"t"}""");

        Assert.Null(EventJson.String(evt["number"]));
        Assert.Null(EventJson.String(evt["object"]));
        Assert.Null(EventJson.String(evt["missing"]));
        Assert.Equal("t", EventJson.String(evt["text"]));
    }

    [Theory]
    [InlineData("""que\udfffry""", true)]
    [InlineData("""{"sql": "\ud800"}""", true)]
    [InlineData("""{"sql": "\ud83d\ude00"}""", false)]
    [InlineData("""{"sql": "\\ud800"}""", false)]
    [InlineData("""query""", false)]
    [InlineData("""trailing backslash \""", false)]
    public void HoldsUnpairedSurrogateEscape_FindsOnlyEscapesOfHalfAPair(string text, bool holds) =>
        Assert.Equal(holds, EventJson.HoldsUnpairedSurrogateEscape(text));
}
