using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Every tool the worker knows: the registered ones (fixed at start) and those of the tool sources (MCP servers), whose
/// lists can change. Readers take a <see cref="Snapshot"/>, replaced whole when a source changes. Names follow the
/// Responses rule (<c>^[a-zA-Z0-9_-]{1,64}$</c>); <c>__</c> is kept for <c>server__tool</c>. A registered name that
/// breaks the rule or is taken twice fails start-up; a source's tool that does is left out with a warning.
/// </summary>
internal sealed partial class ToolCatalog
{
    /// <summary>What a task without a tool list may use: the database tools.</summary>
    public static readonly IReadOnlyList<string> DefaultTools = ["list_tables", "describe_table", "query"];

    private readonly FrozenDictionary<string, RegisteredTool> _registered;
    private readonly IReadOnlyList<IToolSource> _sources;
    private readonly ILogger<ToolCatalog> _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private Snapshot? _current;

    public ToolCatalog(IEnumerable<ToolRegistration> registrations, IEnumerable<IToolSource> sources, IServiceProvider services, ILogger<ToolCatalog> logger)
    {
        ArgumentNullException.ThrowIfNull(registrations);
        _logger = logger;
        var registered = new Dictionary<string, RegisteredTool>(StringComparer.Ordinal);
        foreach (var tool in registrations.SelectMany(r => r.Create(services)))
        {
            if (NameProblem(tool.Name, fromSource: false) is { } problem)
            {
                throw new InvalidOperationException($"The tool \"{tool.Name}\" ({tool.Source}) cannot be registered: {problem}");
            }
            if (registered.TryGetValue(tool.Name, out var first))
            {
                throw new InvalidOperationException(
                    $"Two tools are named \"{tool.Name}\" ({first.Source} and {tool.Source}); tool names must be unique.");
            }
            registered.Add(tool.Name, tool);
            Describe(tool);
        }
        _registered = registered.ToFrozenDictionary(StringComparer.Ordinal);
        _sources = [.. sources];
        // Subscribed first: a list that changes while the first snapshot is built is read again, not missed.
        foreach (var source in _sources)
        {
            source.Changed += Refresh;
        }
        lock (_gate)
        {
            _current ??= Build(0);
        }
    }

    /// <summary>The tools as they are now.</summary>
    public Snapshot Current => Volatile.Read(ref _current)!;

    /// <summary>The registered (fixed) tools, by name.</summary>
    public IReadOnlyDictionary<string, RegisteredTool> Registered => _registered;

    /// <summary>Why <paramref name="name"/> cannot be a tool's name, or null.</summary>
    public static string? NameProblem(string name, bool fromSource)
    {
        if (!ValidName().IsMatch(name))
        {
            return "a tool name must be 1 to 64 letters, digits, '_' or '-' (the Responses API's rule).";
        }
        return !fromSource && name.Contains("__", StringComparison.Ordinal)
            ? "'__' is reserved for MCP tools (server__tool)."
            : null;
    }

    private void Refresh()
    {
        lock (_gate)
        {
            Volatile.Write(ref _current, Build((_current?.Version ?? -1) + 1));
        }
    }

    private Snapshot Build(long version)
    {
        var all = new Dictionary<string, RegisteredTool>(_registered, StringComparer.Ordinal);
        foreach (var source in _sources)
        {
            foreach (var tool in source.Tools)
            {
                var problem = NameProblem(tool.Name, fromSource: true)
                    ?? (all.TryGetValue(tool.Name, out var other) ? $"the name is taken by {other.Source}." : null);
                if (problem is not null)
                {
                    if (_warned.Add(tool.Source + "/" + tool.Name))
                    {
                        LogToolLeftOut(tool.Name, tool.Source, problem);
                    }
                    continue;
                }
                all.Add(tool.Name, tool);
                Describe(tool);
            }
        }
        return new Snapshot(version, all.ToFrozenDictionary(StringComparer.Ordinal), LogMissing);
    }

    private void Describe(RegisteredTool tool)
    {
        if (!tool.Strict && _warned.Add("strict/" + tool.Source + "/" + tool.Name))
        {
            LogNotStrict(tool.Name, tool.Source, tool.WireNotes ?? "");
        }
    }

    /// <summary>The tools at one moment, and the selections made from them (cached: every run of an agent shares one).</summary>
    internal sealed class Snapshot(long version, FrozenDictionary<string, RegisteredTool> tools, Action<string>? missing = null)
    {
        private readonly ConcurrentDictionary<string, ToolSelection> _selections = new(StringComparer.Ordinal);
        private readonly Action<string>? missingLog = missing;

        public long Version { get; } = version;

        public FrozenDictionary<string, RegisteredTool> Tools { get; } = tools;

        /// <summary>
        /// The tools a task may use: each entry a name, or a prefix ending in <c>*</c> (<c>everything__*</c>); null or
        /// empty: <see cref="DefaultTools"/>.
        /// </summary>
        public ToolSelection Select(IReadOnlyList<string>? patterns)
        {
            var wanted = patterns is { Count: > 0 } ? patterns : DefaultTools;
            return _selections.GetOrAdd(string.Join('\n', wanted), _ => Resolve(wanted));
        }

        private ToolSelection Resolve(IReadOnlyList<string> patterns)
        {
            var chosen = new SortedDictionary<string, RegisteredTool>(StringComparer.Ordinal);
            var missing = new List<string>();
            var onMissing = missingLog;
            foreach (var pattern in patterns)
            {
                if (pattern.EndsWith('*'))
                {
                    var prefix = pattern[..^1];
                    var matched = Tools.Values.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
                    matched.ForEach(t => chosen[t.Name] = t);
                    if (matched.Count == 0)
                    {
                        missing.Add(pattern);
                    }
                }
                else if (Tools.TryGetValue(pattern, out var tool))
                {
                    chosen[tool.Name] = tool;
                }
                else
                {
                    missing.Add(pattern);
                }
            }
            if (missing.Count > 0)
            {
                onMissing?.Invoke(string.Join(", ", missing));
            }
            return new ToolSelection(Version, [.. chosen.Values], missing);
        }
    }

    private void LogMissing(string entries) => LogNoSuchTool(entries);

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex ValidName();

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Tool {Tool} of {Source} is left out: {Problem}")]
    private partial void LogToolLeftOut(string tool, string source, string problem);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "A task's tool list names tools that do not exist (now): {Entries}; its runs go on without them")]
    private partial void LogNoSuchTool(string entries);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Tool {Tool} ({Source}) is sent with strict: false: {Why}")]
    private partial void LogNotStrict(string tool, string source, string why);
}
