using System.Text.Json.Nodes;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Tests.Tasks;

/// <summary>Whatever a model sent is stored: text without NUL or unpaired surrogates, JSON that jsonb accepts.</summary>
public sealed class StorableTextTests
{
    [Fact]
    public void Clean_Text_ReplacesOnlyWhatPostgresCannotStore()
    {
        // Built here, not passed as test data: the test runner's own serialization would mend unpaired surrogates.
        (string Text, string Expected)[] cases =
        [
            ("plain", "plain"),
            ("a\0b", "a\uFFFDb"),
            ("x" + (char)0xDC00 + "y", "x\uFFFDy"),
            ("pair \ud83d\ude00 kept", "pair \ud83d\ude00 kept"),
            ("high at the end " + (char)0xD83D, "high at the end \uFFFD"),
        ];

        Assert.All(cases, c => Assert.Equal(c.Expected, StorableText.Clean(c.Text)));
    }

    [Fact]
    public void Cut_NeverSplitsASurrogatePair()
    {
        Assert.Equal("ab", StorableText.Cut("ab\ud83d\ude00", 3));
        Assert.Equal("ab\ud83d\ude00", StorableText.Cut("ab\ud83d\ude00c", 4));
        Assert.Equal("abc", StorableText.Cut("abcdef", 3));
        Assert.Equal("ab", StorableText.Cut("ab", 3));
        var error = StorableText.Error(new string('x', StorableText.MaxErrorChars - 1) + "\ud83d\ude00 and more")!;
        Assert.True(StorableText.IsStorable(error), "a cut error message is storable");
    }

    [Fact]
    public void CleanJson_NestedStrings_AreCleanedAtEveryDepth_AndOtherValuesKept()
    {
        var json = new JsonArray(new JsonObject
        {
            ["arguments"] = "{\"sql\": \"a\0b\"}",
            ["nested"] = new JsonArray("c\0", 5, true, new JsonObject { ["deep"] = "\0" }),
        }).ToJsonString();

        var clean = StorableText.CleanJson(json);

        Assert.DoesNotContain("\\u0000", clean, StringComparison.Ordinal);
        var node = JsonNode.Parse(clean)![0]!;
        Assert.Equal("{\"sql\": \"a\uFFFDb\"}", (string?)node["arguments"]);
        Assert.Equal("c\uFFFD", (string?)node["nested"]![0]);
        Assert.Equal(5, (int)node["nested"]![1]!);
        Assert.Equal("\uFFFD", (string?)node["nested"]![3]!["deep"]);
    }

    [Fact]
    public void Error_LongerThanTheCap_IsCutWithItsLength()
    {
        var error = StorableText.Error(new string('e', 10_000))!;

        Assert.StartsWith(new string('e', StorableText.MaxErrorChars), error, StringComparison.Ordinal);
        Assert.EndsWith("(cut: the message was 10000 characters long)", error, StringComparison.Ordinal);
    }
}
