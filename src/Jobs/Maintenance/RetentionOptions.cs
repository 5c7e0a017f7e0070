using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Maintenance;

/// <summary>How long finished tasks are kept, and how the sweep that removes them runs. Section <c>Retention</c>.</summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string SectionName = "Retention";

    /// <summary>
    /// A finished task (succeeded, failed, cancelled) goes, with its steps, this long after it finished; its batch goes
    /// when its last task has gone. <c>0</c> keeps everything. Default 30 days.
    /// </summary>
    public TimeSpan FinishedTasks { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the sweep runs (a Hangfire recurring job, whole minutes, as a cron schedule). Default 10 minutes.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Tasks removed per transaction: small, so no lock is held long and no burst of WAL is written. Default 10.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 10;

    public bool Enabled => FinishedTasks > TimeSpan.Zero;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FinishedTasks < TimeSpan.Zero)
        {
            yield return new ValidationResult(
                $"Retention:FinishedTasks (Retention__FinishedTasks) must be 0 (keep everything) or a positive time span such as 30.00:00:00, got {FinishedTasks}.",
                [nameof(FinishedTasks)]);
        }
        if (!IsCronInterval(Interval))
        {
            yield return new ValidationResult(
                $"Retention:Interval (Retention__Interval) must divide an hour or a day evenly (Hangfire schedules it by cron): "
                + $"1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes, 1, 2, 3, 4, 6, 8 or 12 hours, or 1.00:00:00; got {Interval}.",
                [nameof(Interval)]);
        }
    }

    /// <summary>Whole minutes dividing an hour, whole hours dividing a day, or a day: what a cron schedule repeats exactly.</summary>
    private static bool IsCronInterval(TimeSpan interval)
    {
        if (interval.Ticks % TimeSpan.TicksPerMinute != 0 || interval <= TimeSpan.Zero)
        {
            return false;
        }
        var minutes = (long)interval.TotalMinutes;
        return minutes < 60 ? 60 % minutes == 0
            : minutes < 1440 ? minutes % 60 == 0 && 24 % (minutes / 60) == 0
            : minutes == 1440;
    }

    /// <summary>The sweep's cron schedule: every N minutes within the hour, every N hours within the day, or daily.</summary>
    internal string Cron()
    {
        var minutes = (int)Interval.TotalMinutes;
        return minutes switch
        {
            < 60 => $"*/{minutes} * * * *",
            < 1440 => $"0 */{minutes / 60} * * *",
            _ => "0 0 * * *",
        };
    }
}
