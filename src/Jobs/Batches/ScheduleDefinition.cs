namespace AgentWorker.Jobs.Batches;

/// <summary>
/// A schedule defined in configuration: <c>Schedules__&lt;name&gt;__Cron</c>, <c>__TimeZone</c>, <c>__Prompts__0</c> ...
/// or <c>__Template</c> with <c>__SourceSql</c>, and the batch's task options. Synced into <c>agent.schedules</c> at
/// start-up (<c>defined_in = 'config'</c>); a schedule removed from configuration is removed there too.
/// </summary>
public sealed class ScheduleDefinition
{
    /// <summary>5 fields (minute hour day-of-month month day-of-week), 6 (seconds first), or a macro such as <c>@daily</c>.</summary>
    public string? Cron { get; set; }

    /// <summary>IANA time zone the cron is read in. Default UTC.</summary>
    public string TimeZone { get; set; } = "UTC";

    public List<string>? Prompts { get; set; }
    public string? Template { get; set; }
    public string? SourceSql { get; set; }
    public string? Instructions { get; set; }
    public string? Model { get; set; }
    public int Priority { get; set; }

    /// <summary>1 to 200; null: the agent's, else 20.</summary>
    public int? MaxSteps { get; set; }


    /// <summary>Each batch's tasks must end within this of the fire, or fail with <c>deadline</c>.</summary>
    public TimeSpan? DeadlineAfter { get; set; }

    /// <summary>A follow-up task's prompt: it runs once the batch has finished, with the batch's results as input.</summary>
    public string? FollowUp { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>The named agent of each batch's tasks (<c>Agents__&lt;name&gt;__...</c> or <c>agent.upsert_agent</c>).</summary>
    public string? Agent { get; set; }
}
