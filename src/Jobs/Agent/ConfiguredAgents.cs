using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// The agents of the configuration (section <c>Agents</c>, one child per agent: <c>Agents__support__Instructions</c>,
/// <c>__Model</c>, <c>__Tools__0</c> ..., <c>__MaxSteps</c>, <c>__DeadlineAfter</c>). Read when the worker starts; a key
/// that is not an agent's setting, or a value that does not parse, fails start-up naming the key.
/// </summary>
internal sealed record ConfiguredAgents(IReadOnlyDictionary<string, AgentDefinition> Agents)
{
    public const string SectionName = "Agents";

    private static readonly string[] s_settings =
        [nameof(AgentDefinition.Instructions), nameof(AgentDefinition.Model), nameof(AgentDefinition.Tools),
         nameof(AgentDefinition.MaxSteps), nameof(AgentDefinition.DeadlineAfter)];

    /// <exception cref="InvalidOperationException">A key or value of the section is wrong; the message names it.</exception>
    public static ConfiguredAgents Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var agents = new Dictionary<string, AgentDefinition>(StringComparer.Ordinal);
        foreach (var agent in configuration.GetSection(SectionName).GetChildren())
        {
            var settings = agent.GetChildren().ToList();
            if (settings.Count == 0)
            {
                throw new InvalidOperationException(
                    $"{Key(agent.Path)} must be a section with the agent's settings ({string.Join(", ", s_settings)}), not a value.");
            }
            foreach (var setting in settings)
            {
                if (!s_settings.Contains(setting.Key, StringComparer.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        $"{Key(setting.Path)} is not a setting of an agent; the settings are {string.Join(", ", s_settings)}.");
                }
            }
            agents[agent.Key] = new AgentDefinition
            {
                Instructions = Text(agent.GetSection(nameof(AgentDefinition.Instructions))),
                Model = Text(agent.GetSection(nameof(AgentDefinition.Model))),
                Tools = Tools(agent.GetSection(nameof(AgentDefinition.Tools))),
                MaxSteps = MaxSteps(agent.GetSection(nameof(AgentDefinition.MaxSteps))),
                DeadlineAfter = DeadlineAfter(agent.GetSection(nameof(AgentDefinition.DeadlineAfter))),
            };
        }
        return new ConfiguredAgents(agents);
    }

    /// <summary>"Agents:support:MaxSteps (environment Agents__support__MaxSteps)".</summary>
    public static string Key(string path) => $"{path} (environment {path.Replace(":", "__", StringComparison.Ordinal)})";

    private static string? Text(IConfigurationSection section) => string.IsNullOrEmpty(section.Value) ? null : section.Value;

    private static List<string>? Tools(IConfigurationSection section)
    {
        if (!string.IsNullOrEmpty(section.Value))
        {
            throw new InvalidOperationException(
                $"{Key(section.Path)} is a list: set {section.Path.Replace(":", "__", StringComparison.Ordinal)}__0, __1 ... (one tool name or <server>__* pattern each).");
        }
        var items = section.GetChildren().ToList();
        if (items.Count == 0)
        {
            return null;
        }
        var tools = new List<string>();
        foreach (var item in items.OrderBy(i => int.TryParse(i.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue))
        {
            if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _) || string.IsNullOrEmpty(item.Value))
            {
                throw new InvalidOperationException(
                    $"{Key(item.Path)} must be a tool name or <server>__* pattern under a number (Tools__0, Tools__1 ...).");
            }
            tools.Add(item.Value);
        }
        return tools;
    }

    private static int? MaxSteps(IConfigurationSection section)
    {
        if (string.IsNullOrEmpty(section.Value))
        {
            return null;
        }
        return int.TryParse(section.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var steps)
            ? steps
            : throw new InvalidOperationException($"{Key(section.Path)} must be an integer from 1 to 200; got \"{section.Value}\".");
    }

    private static TimeSpan? DeadlineAfter(IConfigurationSection section)
    {
        if (string.IsNullOrEmpty(section.Value))
        {
            return null;
        }
        return TimeSpan.TryParse(section.Value, CultureInfo.InvariantCulture, out var after) && after > TimeSpan.Zero
            ? after
            : throw new InvalidOperationException(
                $"{Key(section.Path)} must be a positive time span such as 00:10:00 (hours:minutes:seconds) or 1.00:00:00 (a day); got \"{section.Value}\".");
    }
}
