namespace AgentWorker.Jobs.Batches;

/// <summary>
/// A batch to create: either <see cref="Prompts"/>, or <see cref="Template"/> with <see cref="SourceSql"/> (one task per
/// row of the read-only query, <c>{{column}}</c> filled from it); and the task options of <c>agent.enqueue</c>.
/// </summary>
public sealed record BatchRequest
{
    public required string Name { get; init; }
    public IReadOnlyList<string>? Prompts { get; init; }
    public string? Template { get; init; }
    public string? SourceSql { get; init; }
    public string? Instructions { get; init; }
    public string? Model { get; init; }
    public int Priority { get; init; }

    /// <summary>1 to 200; null: the agent's, else 20.</summary>
    public int? MaxSteps { get; init; }

    public DateTimeOffset? Deadline { get; init; }

    /// <summary>A follow-up task's prompt: enqueued once when the batch finishes, with its results as input.</summary>
    public string? FollowUp { get; init; }

    /// <summary>The same key with the same content returns the first batch; with other content it is refused.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The named agent of every task of the batch (and of its follow-up); the tasks' own options override it.</summary>
    public string? Agent { get; init; }
}

/// <summary>A batch: its state, counts by status, progress, times and token totals.</summary>
public sealed record BatchDetails
{
    public required long Id { get; init; }
    public required string Name { get; init; }

    /// <summary><c>pending</c> (a template waiting to be expanded), <c>running</c>, <c>finished</c>, <c>cancelled</c> or <c>failed</c> (see <see cref="Error"/>).</summary>
    public required string Status { get; init; }

    public int Total { get; init; }
    public int Queued { get; init; }
    public int Running { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int Cancelled { get; init; }

    /// <summary>Share of the tasks that ended, 0 to 1.</summary>
    public double Progress { get; init; }

    public DateTime CreatedAt { get; init; }

    /// <summary>When its first task started.</summary>
    public DateTime? StartedAt { get; init; }

    public DateTime? FinishedAt { get; init; }
    public long InputTokens { get; init; }
    public long CachedTokens { get; init; }
    public long OutputTokens { get; init; }
    public long ReasoningTokens { get; init; }
    public string? Template { get; init; }
    public string? SourceSql { get; init; }
    public string? FollowUp { get; init; }
    public long? FollowUpTaskId { get; init; }
    public string? ScheduleName { get; init; }

    /// <summary>The named agent of its tasks; null when none.</summary>
    public string? Agent { get; init; }

    /// <summary>Why a batch failed (its template could not be expanded), or a note (its query returned no rows).</summary>
    public string? Error { get; init; }
}

/// <summary>One task of a batch, for exports (<c>agent.batch_results</c>).</summary>
public sealed record BatchResult
{
    public long Batch { get; init; }
    public long Task { get; init; }
    public required string Prompt { get; init; }
    public required string Status { get; init; }
    public string? Result { get; init; }
    public string? Error { get; init; }
    public long InputTokens { get; init; }
    public long CachedTokens { get; init; }
    public long OutputTokens { get; init; }
    public long ReasoningTokens { get; init; }
    public double? DurationMs { get; init; }
}

/// <summary>What <c>agent.cancel_batch</c> did.</summary>
public enum BatchCancelOutcome
{
    /// <summary>Its queued tasks are cancelled and its running ones asked to stop.</summary>
    Cancelled,

    /// <summary>It had finished, been cancelled or failed already; nothing changed.</summary>
    AlreadyFinished,

    /// <summary>There is no such batch.</summary>
    NotFound,
}

/// <summary>A schedule: a cron in a time zone, and the batch each fire creates.</summary>
public sealed record ScheduleRequest
{
    public required string Cron { get; init; }
    public string TimeZone { get; init; } = "UTC";
    public IReadOnlyList<string>? Prompts { get; init; }
    public string? Template { get; init; }
    public string? SourceSql { get; init; }
    public string? Instructions { get; init; }
    public string? Model { get; init; }
    public int Priority { get; init; }

    /// <summary>1 to 200; null: the agent's, else 20.</summary>
    public int? MaxSteps { get; init; }

    public TimeSpan? DeadlineAfter { get; init; }
    public string? FollowUp { get; init; }
    public bool Enabled { get; init; } = true;

    /// <summary>The named agent of each batch's tasks; it must exist when the schedule is written.</summary>
    public string? Agent { get; init; }
}

/// <summary>A stored schedule, with where it is defined and its last batch.</summary>
public sealed record ScheduleDetails
{
    public required string Name { get; init; }
    public required string Cron { get; init; }
    public required string TimeZone { get; init; }
    public string[]? Prompts { get; init; }
    public string? Template { get; init; }
    public string? SourceSql { get; init; }
    public string? Instructions { get; init; }
    public string? Model { get; init; }
    public int Priority { get; init; }

    /// <summary>Null: the agent's, else 20.</summary>
    public int? MaxSteps { get; init; }

    public TimeSpan? DeadlineAfter { get; init; }
    public string? FollowUp { get; init; }
    public bool Enabled { get; init; }

    /// <summary>The named agent of each batch's tasks; null when none.</summary>
    public string? Agent { get; init; }

    /// <summary><c>sql</c> (SQL or the REST API) or <c>config</c> (the worker's configuration, which wins at start-up).</summary>
    public required string DefinedIn { get; init; }

    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public long? LastBatchId { get; init; }
    public DateTime? LastFiredAt { get; init; }
}
