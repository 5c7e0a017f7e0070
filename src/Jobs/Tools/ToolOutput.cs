using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// What an <see cref="AIFunction"/> returned, as the text the model gets: a string as it is, JSON as its text, text
/// content as its text, anything else serialized with the function's own options. The cut to the output limit is the
/// loop's (<c>Agent:MaxToolOutputChars</c>), the same for every tool.
/// </summary>
internal static class ToolOutput
{
    public static ToolResult From(object? value, JsonSerializerOptions? options) => value switch
    {
        ToolResult result => result,
        null => new ToolResult("null", IsError: false),
        string text => new ToolResult(text, IsError: false),
        JsonElement { ValueKind: JsonValueKind.String } element => new ToolResult(element.GetString() ?? "", IsError: false),
        JsonElement element => new ToolResult(element.GetRawText(), IsError: false),
        TextContent content => new ToolResult(content.Text, IsError: false),
        IEnumerable<AIContent> contents => new ToolResult(string.Join("\n", contents.Select(Text)), IsError: false),
        _ => new ToolResult(JsonSerializer.Serialize(value, value.GetType(), options ?? AIJsonUtilities.DefaultOptions), IsError: false),
    };

    private static string Text(AIContent content) => content switch
    {
        TextContent text => text.Text,
        DataContent data => $"[{data.MediaType} content, {data.Data.Length} bytes]",
        UriContent uri => uri.Uri.ToString(),
        _ => $"[{content.GetType().Name}]",
    };
}
