using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Simulator.Protocol;

/// <summary>
/// Events as JSON on the wire. System.Text.Json writes half a surrogate pair as U+FFFD; a model server may send it as
/// an escape (<c>"\ud800"</c>), which is what clients must survive, so a response whose output holds one is written
/// with those escapes kept.
/// </summary>
public static class WireJson
{
    public static byte[] Serialize(JsonNode node, bool keepUnpairedSurrogates)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!keepUnpairedSurrogates)
        {
            return JsonSerializer.SerializeToUtf8Bytes(node);
        }
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, node);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Whether any string in <paramref name="node"/> holds half a surrogate pair.</summary>
    public static bool HasUnpairedSurrogate(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(p => HasUnpairedSurrogate(p.Value)),
        JsonArray a => a.Any(HasUnpairedSurrogate),
        JsonValue v => v.TryGetValue<string>(out var text) && IndexOfUnpaired(text) >= 0,
        _ => false,
    };

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject o:
                writer.WriteStartObject();
                foreach (var (name, value) in o)
                {
                    writer.WritePropertyName(name);
                    Write(writer, value);
                }
                writer.WriteEndObject();
                break;
            case JsonArray a:
                writer.WriteStartArray();
                foreach (var item in a)
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValue v when v.TryGetValue<string>(out var text) && IndexOfUnpaired(text) >= 0:
                writer.WriteRawValue(Escaped(text), skipInputValidation: true);
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    /// <summary>A JSON string literal of <paramref name="text"/>, every character outside printable ASCII escaped.</summary>
    private static string Escaped(string text)
    {
        var literal = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            if (c is '"' or '\\')
            {
                literal.Append('\\').Append(c);
            }
            else if (c is >= ' ' and <= '~')
            {
                literal.Append(c);
            }
            else
            {
                literal.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }
        return literal.Append('"').ToString();
    }

    private static int IndexOfUnpaired(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
