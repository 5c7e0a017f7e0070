using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Tools;

/// <summary>The tools: the read-only database tools, and the limits of every call. Section <c>Tools</c> (environment: <c>Tools__Schemas</c> ...).</summary>
public sealed class ToolsOptions
{
    public const string SectionName = "Tools";

    /// <summary>Comma-separated schemas of the target that the tools may see. Default <c>public</c>.</summary>
    [Required]
    [RegularExpression(@"^\s*[A-Za-z_][A-Za-z0-9_$]*(\s*,\s*[A-Za-z_][A-Za-z0-9_$]*)*\s*$",
        ErrorMessage = "Tools:Schemas (environment Tools__Schemas) must be a comma-separated list of schema names, e.g. 'public,shop'.")]
    public string Schemas { get; set; } = "public";

    /// <summary>
    /// Login used when <c>ConnectionStrings:Target</c> is not set: the App connection with this user name.
    /// Default <c>agent_reader</c>; create it with <c>Worker reader-role</c>.
    /// </summary>
    [Required]
    [RegularExpression(@"^[A-Za-z_][A-Za-z0-9_]*$", ErrorMessage = "Tools:ReaderRole must be a plain role name.")]
    public string ReaderRole { get; set; } = "agent_reader";

    /// <summary>Password of <see cref="ReaderRole"/> when the server asks for one.</summary>
    public string? ReaderPassword { get; set; }

    /// <summary>
    /// The reader role's <c>CONNECTION LIMIT</c> across the whole server, set by <c>Worker reader-role</c>: the bound on
    /// how many of its backends run at once (work PostgreSQL cannot cancel and its memory included). Default 16.
    /// </summary>
    [Range(1, 10_000, ErrorMessage = "Tools:ReaderConnectionLimit (environment Tools__ReaderConnectionLimit) must be between 1 and 10000.")]
    public int ReaderConnectionLimit { get; set; } = Tools.ReaderRole.DefaultConnectionLimit;

    /// <summary>Most rows a query returns to the model; one more is fetched to flag truncation. Default 200.</summary>
    [Range(1, 100_000)]
    public int MaxRows { get; set; } = 200;

    /// <summary>Most characters of one tool result. Default 16000.</summary>
    [Range(256, 10_000_000)]
    public int MaxOutputChars { get; set; } = 16_000;

    /// <summary>Longest arguments text of one tool call; a longer call goes back to the model as a tool error. Default 64000.</summary>
    [Range(256, 10_000_000)]
    public int MaxArgumentChars { get; set; } = 64_000;

    /// <summary>Server-side <c>statement_timeout</c> of one tool query. Default 5 s.</summary>
    public TimeSpan StatementTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Longest one call of any tool may take, unless the tool says otherwise (<see cref="AgentToolOptions.Timeout"/>);
    /// past it the call is cancelled and the model gets a tool error. Default 60 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00",
        ErrorMessage = "Tools:CallTimeout (environment Tools__CallTimeout) must be between 1 ms and 1 day, e.g. 00:01:00.")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public IReadOnlyList<string> SchemaList() =>
        Schemas.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
