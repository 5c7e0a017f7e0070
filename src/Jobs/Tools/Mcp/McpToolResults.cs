using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// An MCP <c>tools/call</c> result as the text the model gets: the text blocks joined by new lines (a server that
/// returns structured content also returns it as text, as the specification asks), else the structured content as
/// JSON; other blocks (images, audio, resources) are named with their type and size. <c>isError: true</c> is a tool error.
/// </summary>
internal static class McpToolResults
{
    public static ToolResult From(CallToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = string.Join("\n", result.Content.Select(Text));
        if (result.Content.Count == 0 || (text.Length == 0 && result.StructuredContent is not null))
        {
            text = result.StructuredContent is { } structured ? JsonSerializer.Serialize(structured, McpJsonOptions) : "";
        }
        return result.IsError == true
            ? ToolResult.Error(text.Length == 0 ? "The tool reported an error without a message." : text)
            : new ToolResult(text, IsError: false);
    }

    private static readonly JsonSerializerOptions McpJsonOptions = ModelContextProtocol.McpJsonUtilities.DefaultOptions;

    private static string Text(ContentBlock block) => block switch
    {
        TextContentBlock text => text.Text,
        ImageContentBlock image => $"[image {image.MimeType}, {image.Data.Length} base64 characters]",
        AudioContentBlock audio => $"[audio {audio.MimeType}, {audio.Data.Length} base64 characters]",
        EmbeddedResourceBlock { Resource: TextResourceContents resource } => resource.Text,
        EmbeddedResourceBlock embedded => $"[resource {embedded.Resource.Uri}]",
        ResourceLinkBlock link => $"[resource link {link.Uri}]",
        _ => $"[{block.Type} content]",
    };
}
