using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// Text as PostgreSQL can store it: <c>text</c> holds no NUL, <c>jsonb</c> no <c>\u0000</c> escape and no unpaired
/// surrogate. What a model sent is kept as far as it can be, the rest replaced by U+FFFD.
/// </summary>
internal static partial class StorableText
{
    private const char Replacement = '\uFFFD';

    /// <summary>Longest error message stored on a task.</summary>
    public const int MaxErrorChars = 4000;

    /// <summary>An error message as stored: cleaned, and cut past <see cref="MaxErrorChars"/> with a note of its length.</summary>
    public static string? Error(string? message)
    {
        var clean = Clean(message);
        return clean is null || clean.Length <= MaxErrorChars
            ? clean
            : Cut(clean, MaxErrorChars) + $"...(cut: the message was {clean.Length} characters long)";
    }

    /// <summary>
    /// The first <paramref name="max"/> characters of <paramref name="text"/> (all of it when shorter), one fewer rather
    /// than half a surrogate pair, which PostgreSQL would refuse.
    /// </summary>
    public static string Cut(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= max)
        {
            return text;
        }
        return char.IsHighSurrogate(text[max - 1]) && char.IsLowSurrogate(text[max]) ? text[..(max - 1)] : text[..max];
    }

    public static string? Clean(string? text)
    {
        if (text is null || !NeedsCleaning(text))
        {
            return text;
        }
        var clean = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                clean.Append(Replacement);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[++i]);
            }
            else
            {
                clean.Append(char.IsSurrogate(c) ? Replacement : c);
            }
        }
        return clean.ToString();
    }

    /// <summary>
    /// Whether PostgreSQL can store the text as it is: no NUL, no surrogate half without its partner. Input a caller gives
    /// (a prompt) is refused when it is not, rather than changed.
    /// </summary>
    public static bool IsStorable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0' || char.IsLowSurrogate(c))
            {
                return false;
            }
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }
                i++;
            }
        }
        return true;
    }

    /// <summary>A JSON text whose strings are all <see cref="Clean(string?)"/>; untouched when nothing needs it.</summary>
    public static string CleanJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        // Every step passes here: most JSON escapes non-ASCII text as \uXXXX, so only the escapes jsonb refuses (NUL, a
        // surrogate half) send it down the slow path; a valid surrogate pair costs a walk that changes nothing.
        if (!UnstorableEscape().IsMatch(json) && !NeedsCleaning(json))
        {
            return json;
        }
        try
        {
            return CleanNode(JsonNode.Parse(json))?.ToJsonString() ?? json;
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static bool NeedsCleaning(string text)
    {
        foreach (var c in text)
        {
            if (c == '\0' || char.IsSurrogate(c))
            {
                return true;
            }
        }
        return false;
    }

    private static JsonNode? CleanNode(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    CleanChild(o[key], clean => o[key] = clean);
                }
                return o;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    var index = i;
                    CleanChild(a[i], clean => a[index] = clean);
                }
                return a;
            case JsonValue v:
                return CleanValue(v);
            default:
                return node;
        }
    }

    /// <summary>A string is replaced by a clean copy; an object or array is cleaned in place.</summary>
    private static void CleanChild(JsonNode? child, Action<JsonNode?> replace)
    {
        if (child is JsonValue value)
        {
            replace(CleanValue(value));
        }
        else
        {
            CleanNode(child);
        }
    }

    /// <summary>A fresh node (the old one keeps its parent until replaced): strings cleaned, other values copied.</summary>
    private static JsonNode? CleanValue(JsonValue value)
    {
        if (value.GetValueKind() != JsonValueKind.String)
        {
            return value.DeepClone();
        }
        try
        {
            return JsonValue.Create(Clean(value.GetValue<string>()));
        }
        catch (InvalidOperationException)
        {
            return JsonValue.Create(Replacement.ToString());
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\\u(0000|[dD][89a-fA-F])")]
    private static partial System.Text.RegularExpressions.Regex UnstorableEscape();
}
