using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Batches;

/// <summary>Batches and their schedules. Section <c>Batches</c> (environment <c>Batches__MaxTasks</c>).</summary>
public sealed class BatchOptions
{
    public const string SectionName = "Batches";

    /// <summary>
    /// Most tasks in one batch: a prompt list or a template's query returning more is refused (the query is not run
    /// further than this many rows, plus one to tell). Default and upper bound 10,000.
    /// </summary>
    [Range(1, 10_000, ErrorMessage = "Batches:MaxTasks (environment Batches__MaxTasks) must be between 1 and 10000.")]
    public int MaxTasks { get; set; } = 10_000;

    /// <summary>The longest a value from the template's query may be in a prompt; longer values are cut with a note. Default 20,000 characters.</summary>
    [Range(100, 200_000)]
    public int MaxValueChars { get; set; } = 20_000;

    /// <summary>
    /// The most characters a template batch's prompts may hold in all: its query's values are read no further (only
    /// the columns the template names), and a batch over it fails naming this setting. Default 20,000,000 (about 40 MB
    /// in the worker while the batch is created).
    /// </summary>
    [Range(1_000, 2_000_000_000, ErrorMessage = "Batches:MaxTotalChars (environment Batches__MaxTotalChars) must be between 1000 and 2000000000.")]
    public int MaxTotalChars { get; set; } = 20_000_000;

    /// <summary>
    /// The fallback poll for pending template batches, when no NOTIFY arrives: the worker's <c>Worker:PollInterval</c>,
    /// set at registration (not a setting of its own).
    /// </summary>
    internal TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
