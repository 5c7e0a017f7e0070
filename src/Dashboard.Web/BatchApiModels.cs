using AgentWorker.Jobs.Batches;

namespace AgentWorker.Dashboard;

/// <summary>
/// The body of <c>POST /api/batches</c>: either <c>prompts</c>, or <c>template</c> with <c>source_sql</c> (one task per
/// row of the read-only query, <c>{{column}}</c> filled from it), and the task options of <c>agent.enqueue</c>.
/// </summary>
/// <param name="Name">What the batch is (1 to 200 characters).</param>
/// <param name="Prompts">One task per prompt (1 to Batches:MaxTasks, none blank).</param>
/// <param name="Template">A prompt with {{column}} placeholders, filled from each row of source_sql (NULL fills in as nothing).</param>
/// <param name="SourceSql">One read-only SELECT, run on the target as the tools' reader login.</param>
/// <param name="Instructions">System instructions for every task.</param>
/// <param name="Model">Model name; the worker's Llm:Model when absent.</param>
/// <param name="Priority">-10 to 10. Default 0.</param>
/// <param name="MaxSteps">1 to 200. Default: the agent's, else 20.</param>
/// <param name="Deadline">Every task fails with "deadline" if not finished by then (ISO 8601 with offset).</param>
/// <param name="FollowUp">A follow-up task's prompt: enqueued once when the batch finishes, with its results as input.</param>
/// <param name="IdempotencyKey">1 to 200 characters. The same key with the same content returns the first batch; with other content, 409.</param>
/// <param name="Agent">The named agent of every task (and of the follow-up); the batch's own options override it.</param>
internal sealed record CreateBatchRequest(
    string Name,
    IReadOnlyList<string>? Prompts = null,
    string? Template = null,
    string? SourceSql = null,
    string? Instructions = null,
    string? Model = null,
    int? Priority = null,
    int? MaxSteps = null,
    DateTimeOffset? Deadline = null,
    string? FollowUp = null,
    string? IdempotencyKey = null,
    string? Agent = null);

/// <summary>A page of batches, newest first.</summary>
/// <param name="Items">The batches on this page.</param>
/// <param name="Next">The URL of the next page, or null on the last page.</param>
internal sealed record BatchPage(IReadOnlyList<BatchDetails> Items, string? Next);

/// <summary>What a batch cancel did.</summary>
/// <param name="Id">The batch's id.</param>
/// <param name="Outcome">Always <c>cancelled</c>: its queued tasks are cancelled, its running ones stop within a second.</param>
/// <param name="Status">The batch's status now.</param>
internal sealed record CancelledBatch(long Id, string Outcome, string Status);

/// <summary>The body of <c>PUT /api/schedules/{name}</c>: a cron in a time zone, and the batch each fire creates.</summary>
/// <param name="Cron">5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or a macro such as @daily.</param>
/// <param name="TimeZone">IANA time zone the cron is read in. Default UTC.</param>
/// <param name="Prompts">One task per prompt.</param>
/// <param name="Template">A prompt with {{column}} placeholders, filled from each row of source_sql.</param>
/// <param name="SourceSql">One read-only SELECT, run on the target as the tools' reader login, at each fire.</param>
/// <param name="Instructions">System instructions for every task.</param>
/// <param name="Model">Model name; the worker's Llm:Model when absent.</param>
/// <param name="Priority">-10 to 10. Default 0.</param>
/// <param name="MaxSteps">1 to 200. Default: the agent's, else 20.</param>
/// <param name="DeadlineAfter">Each batch's tasks must end within this of the fire ("02:00:00").</param>
/// <param name="FollowUp">A follow-up task's prompt, run once each batch has finished, with its results as input.</param>
/// <param name="Enabled">A disabled schedule keeps its definition but does not fire. Default true.</param>
/// <param name="Agent">The named agent of each batch's tasks; it must exist.</param>
internal sealed record ScheduleBody(
    string Cron,
    string? TimeZone = null,
    IReadOnlyList<string>? Prompts = null,
    string? Template = null,
    string? SourceSql = null,
    string? Instructions = null,
    string? Model = null,
    int? Priority = null,
    int? MaxSteps = null,
    TimeSpan? DeadlineAfter = null,
    string? FollowUp = null,
    bool? Enabled = null,
    string? Agent = null)
{
    internal ScheduleRequest ToRequest() => new()
    {
        Cron = Cron ?? "",
        TimeZone = TimeZone ?? "UTC",
        Prompts = Prompts,
        Template = Template,
        SourceSql = SourceSql,
        Instructions = Instructions,
        Model = Model,
        Priority = Priority ?? 0,
        MaxSteps = MaxSteps,
        DeadlineAfter = DeadlineAfter,
        FollowUp = FollowUp,
        Enabled = Enabled ?? true,
        Agent = Agent,
    };
}

/// <summary>The body of <c>POST /api/schedules</c>: a new schedule with its name.</summary>
/// <param name="Name">1 to 100 letters, digits and ._- (the Hangfire recurring job is "agent-schedule:name").</param>
/// <param name="Cron">5 fields, 6 (seconds first) or a macro such as @daily.</param>
/// <param name="TimeZone">IANA time zone. Default UTC.</param>
/// <param name="Prompts">One task per prompt.</param>
/// <param name="Template">A prompt with {{column}} placeholders.</param>
/// <param name="SourceSql">One read-only SELECT whose rows fill the template.</param>
/// <param name="Instructions">System instructions for every task.</param>
/// <param name="Model">Model name.</param>
/// <param name="Priority">-10 to 10.</param>
/// <param name="MaxSteps">1 to 200.</param>
/// <param name="DeadlineAfter">Each batch's tasks must end within this of the fire.</param>
/// <param name="FollowUp">A follow-up task's prompt.</param>
/// <param name="Enabled">Default true.</param>
/// <param name="Agent">The named agent of each batch's tasks.</param>
internal sealed record CreateScheduleRequest(
    string Name,
    string Cron,
    string? TimeZone = null,
    IReadOnlyList<string>? Prompts = null,
    string? Template = null,
    string? SourceSql = null,
    string? Instructions = null,
    string? Model = null,
    int? Priority = null,
    int? MaxSteps = null,
    TimeSpan? DeadlineAfter = null,
    string? FollowUp = null,
    bool? Enabled = null,
    string? Agent = null)
{
    internal ScheduleBody Body() => new(Cron, TimeZone, Prompts, Template, SourceSql, Instructions, Model, Priority, MaxSteps, DeadlineAfter, FollowUp, Enabled, Agent);
}

/// <summary>A schedule fired now.</summary>
/// <param name="BatchId">The batch the fire created.</param>
/// <param name="Url">Where to follow it: /api/batches/{id}.</param>
internal sealed record TriggeredSchedule(long BatchId, string Url);
