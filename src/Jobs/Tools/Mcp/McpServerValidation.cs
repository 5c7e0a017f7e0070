using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Tools.Mcp;

/// <summary>
/// Checks each configured MCP server on start, every message naming its key and environment variable
/// (<c>Tools:Mcp:files:Command (environment Tools__Mcp__files__Command) ...</c>), as <c>KeyedValidation</c> does for
/// the other sections.
/// </summary>
internal sealed partial class McpServerValidation(McpServerNames names) : IValidateOptions<McpServerOptions>
{
    /// <summary>Longest server name: <c>{server}__{tool}</c> must stay within the 64 characters of a tool name.</summary>
    public const int MaxNameLength = 48;

    public ValidateOptionsResult Validate(string? name, McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (name is null || !names.Contains(name))
        {
            return ValidateOptionsResult.Skip;
        }
        var problems = Problems(name, options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static string Key(string server, string member) =>
        $"Tools:Mcp:{server}:{member} (environment Tools__Mcp__{server}__{member})";

    /// <summary>Why <paramref name="server"/> cannot name an MCP server, or null.</summary>
    public static string? NameProblem(string server) => ServerName().IsMatch(server) && server.Length <= MaxNameLength
        ? null
        : $"The MCP server name \"{server}\" (Tools:Mcp:{server}) must be 1 to {MaxNameLength} letters, digits, '-' or single '_' "
            + "between them: its tools are named {server}__{tool} within the 64 characters of a tool name.";

    private static IEnumerable<string> Problems(string server, McpServerOptions options)
    {
        if (NameProblem(server) is { } nameProblem)
        {
            yield return nameProblem;
        }
        var stdio = !string.IsNullOrWhiteSpace(options.Command);
        var http = !string.IsNullOrWhiteSpace(options.Url);
        if (stdio == http)
        {
            yield return $"{Key(server, "Command")} or {Key(server, "Url")} must be set, one of them: "
                + (stdio ? "both are." : "neither is.");
        }
        if (http && !(Uri.TryCreate(options.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            yield return $"{Key(server, "Url")} must be an absolute http or https URL, e.g. https://example.com/mcp; it is \"{options.Url}\".";
        }
        if (!stdio && (options.Arguments.Count > 0 || options.Environment.Count > 0 || options.WorkingDirectory is not null))
        {
            yield return $"{Key(server, "Arguments")}, {Key(server, "Environment")} and {Key(server, "WorkingDirectory")} are for a stdio server (Command); this one has none.";
        }
        if (!http && options.Headers.Count > 0)
        {
            yield return $"{Key(server, "Headers")} are for an HTTP server (Url); this one has none.";
        }
        foreach (var variable in options.Environment.Keys.Where(k => !VariableName().IsMatch(k)))
        {
            yield return $"{Key(server, "Environment")}: \"{variable}\" is not a valid environment variable name.";
        }
        if (options.CallTimeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(1)))
        {
            yield return $"{Key(server, "CallTimeout")} must be between 1 ms and 1 day, e.g. 00:01:00.";
        }
        if (options.StartTimeout < TimeSpan.Zero || options.StartTimeout > TimeSpan.FromMinutes(10))
        {
            yield return $"{Key(server, "StartTimeout")} must be between 0 and 10 minutes, e.g. 00:00:10.";
        }
        if (options.MaxReconnectDelay < TimeSpan.FromSeconds(1) || options.MaxReconnectDelay > TimeSpan.FromHours(1))
        {
            yield return $"{Key(server, "MaxReconnectDelay")} must be between 1 s and 1 hour, e.g. 00:00:30.";
        }
    }

    [GeneratedRegex("^[A-Za-z0-9-]+(_[A-Za-z0-9-]+)*$")]
    private static partial Regex ServerName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();
}
