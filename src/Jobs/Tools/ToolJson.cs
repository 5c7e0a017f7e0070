using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// How tool outputs are written for the model: plain UTF-8 text. The default encoder escapes HTML-sensitive and
/// non-ASCII characters (<c>\u00FC</c> for ü), which costs tokens and hides the data from the model; these outputs
/// never go into HTML.
/// </summary>
internal static class ToolJson
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(JsonNode node) => node.ToJsonString(Options);
}
