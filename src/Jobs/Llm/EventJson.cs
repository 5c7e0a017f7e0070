using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Llm;

/// <summary>
/// A server event parsed so that whatever reads it later (the turn's assembly, the transcript resent, the steps stored)
/// cannot fail on its text. System.Text.Json parses an escape of half a surrogate pair (<c>"\ud800"</c>) but throws
/// when the string is read, cloned or written; such an escape is kept as its six characters of text instead (so a tool
/// call holding one is refused as a tool error, and nothing is lost). Bytes that are not UTF-8 become U+FFFD, as a text
/// decoder makes them; a property named twice makes the event malformed.
/// </summary>
internal static class EventJson
{
    private static readonly JsonDocumentOptions s_options = new() { AllowDuplicateProperties = false };

    /// <summary>The event as a JSON object, or null when it is JSON but not an object.</summary>
    /// <exception cref="JsonException">It is not JSON.</exception>
    public static JsonObject? Parse(ReadOnlySpan<byte> utf8)
    {
        byte[]? decoded = null;
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            decoded = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8));
            utf8 = decoded;
        }
        if (NextUnpairedSurrogateEscape(utf8, 0) >= 0)
        {
            utf8 = KeepingUnpairedSurrogatesAsText(utf8);
        }
        return JsonNode.Parse(utf8, documentOptions: s_options) as JsonObject;
    }

    /// <summary>
    /// A field of an event as a string, or null when it is anything else (absent, a number, an object): a cast
    /// (<c>(string?)node</c>) throws on those, and a server may send them.
    /// </summary>
    public static string? String(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>
    /// Whether <paramref name="text"/> holds the escape of half a surrogate pair: what <see cref="Parse"/> leaves of one
    /// sent in an event (or what a JSON text holds that no reader can decode).
    /// </summary>
    public static bool HoldsUnpairedSurrogateEscape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return NextUnpairedSurrogateEscape(text.AsSpan(), 0) >= 0;
    }

    /// <summary>Each escape of half a surrogate pair with its backslash escaped: <c>\ud800</c> becomes the text <c>\\ud800</c>.</summary>
    private static byte[] KeepingUnpairedSurrogatesAsText(ReadOnlySpan<byte> utf8)
    {
        var kept = new List<byte>(utf8.Length + 16);
        var from = 0;
        for (var at = NextUnpairedSurrogateEscape(utf8, 0); at >= 0; at = NextUnpairedSurrogateEscape(utf8, at + 6))
        {
            kept.AddRange(utf8[from..at]);
            kept.Add((byte)'\\');
            from = at;
        }
        kept.AddRange(utf8[from..]);
        return [.. kept];
    }

    /// <summary>
    /// Where the next JSON escape (<c>\uXXXX</c>) of a surrogate without its partner starts, from <paramref name="start"/>
    /// (which must not be inside an escape); -1 when there is none. Escaped backslashes (<c>\\u</c>) are not escapes.
    /// </summary>
    private static int NextUnpairedSurrogateEscape<T>(ReadOnlySpan<T> text, int start)
        where T : unmanaged, IBinaryInteger<T>
    {
        var backslash = T.CreateTruncating('\\');
        var i = start;
        while (i < text.Length)
        {
            var next = text[i..].IndexOf(backslash);
            if (next < 0)
            {
                return -1;
            }
            i += next;
            if (Escaped(text, i) is not { } unit)
            {
                i += 2; // \\, \", \n ...: the character after the backslash is not the start of another escape
                continue;
            }
            if (char.IsHighSurrogate(unit) && Escaped(text, i + 6) is { } low && char.IsLowSurrogate(low))
            {
                i += 12;
                continue;
            }
            if (char.IsSurrogate(unit))
            {
                return i;
            }
            i += 6;
        }
        return -1;
    }

    /// <summary>The UTF-16 unit of a <c>\uXXXX</c> escape at <paramref name="at"/>, or null when none starts there.</summary>
    private static char? Escaped<T>(ReadOnlySpan<T> text, int at)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (at + 6 > text.Length || text[at] != T.CreateTruncating('\\') || text[at + 1] != T.CreateTruncating('u'))
        {
            return null;
        }
        var unit = 0;
        for (var k = at + 2; k < at + 6; k++)
        {
            var digit = HexDigit(int.CreateTruncating(text[k]));
            if (digit < 0)
            {
                return null;
            }
            unit = (unit << 4) | digit;
        }
        return (char)unit;
    }

    private static int HexDigit(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
