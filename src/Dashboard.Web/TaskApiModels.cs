using System.Text.Json.Nodes;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Dashboard;

/// <summary>
/// The body of <c>POST /api/tasks</c>. Only <c>prompt</c> is required; the rest have <c>agent.enqueue</c>'s defaults.
/// Unknown fields, duplicate fields and numbers in strings are refused, so a typo is an error, not a silent default.
/// </summary>
/// <param name="Prompt">What the agent is asked (1 to 200,000 characters).</param>
/// <param name="Instructions">System instructions for this task (at most 200,000 characters); its agent's, else the worker's default, when absent.</param>
/// <param name="Model">Model name; its agent's, else the worker's <c>Llm:Model</c>, when absent.</param>
/// <param name="Priority">-10 to 10, higher first. Default 0.</param>
/// <param name="MaxSteps">Model turns allowed, 1 to 200. Default: its agent's, else 20.</param>
/// <param name="IdempotencyKey">1 to 200 characters. The same key with the same content returns the first task; with different content, 409.</param>
/// <param name="RunAt">Not before this time (ISO 8601 with offset). Default now.</param>
/// <param name="Deadline">The task fails with error_code "deadline" if not finished by then (ISO 8601 with offset). Default: its agent's deadline_after from run_at.</param>
/// <param name="ToolConfig">A JSON object for the tools (e.g. {"schemas": ["shop"]}).</param>
/// <param name="BatchId">Adds the task to an open (pending or running) batch; counted into its total.</param>
/// <param name="Agent">A named agent (GET /api/agents) whose instructions, model, tools and limits apply where the task gives none; default: the agent named "default" when there is one. An unknown agent is refused.</param>
/// <param name="Tools">The tools the task may use: tool names or "server__*" patterns. Default: its agent's, else the database tools.</param>
internal sealed record EnqueueTaskRequest(
    string Prompt,
    string? Instructions = null,
    string? Model = null,
    int? Priority = null,
    int? MaxSteps = null,
    string? IdempotencyKey = null,
    DateTimeOffset? RunAt = null,
    DateTimeOffset? Deadline = null,
    JsonObject? ToolConfig = null,
    long? BatchId = null,
    string? Agent = null,
    IReadOnlyList<string>? Tools = null);

/// <summary>The task created (or, for a repeated idempotency key with the same content, the task first created).</summary>
/// <param name="Id">The task's id.</param>
/// <param name="Url">Where to read it: <c>/api/tasks/{id}</c>.</param>
internal sealed record EnqueuedTask(long Id, string Url);

/// <summary>A page of tasks, newest first.</summary>
/// <param name="Items">The tasks on this page.</param>
/// <param name="Next">The URL of the next page (older tasks), or null on the last page.</param>
internal sealed record TaskPage(IReadOnlyList<TaskSummary> Items, string? Next);

/// <summary>What a cancel did.</summary>
/// <param name="Id">The task's id.</param>
/// <param name="Outcome"><c>cancelled</c> (it was queued; now cancelled) or <c>stop_requested</c> (it is running; its worker stops it within a second, keeping its steps).</param>
/// <param name="Status">The task's status now.</param>
internal sealed record CancelledTask(long Id, string Outcome, string Status);

/// <summary>The body of <c>POST /api/tasks/{id}/retry</c>; it may be empty.</summary>
/// <param name="MaxSteps">Replaces the task's max_steps (1 to 200). A task that failed on max_steps stops again at once without it.</param>
internal sealed record RetryTaskRequest(int? MaxSteps = null);

/// <summary>A task queued again.</summary>
/// <param name="Id">The task's id.</param>
/// <param name="Outcome">Always <c>queued</c>: due now; its next run resumes from its stored steps.</param>
/// <param name="Url">Where to read it: <c>/api/tasks/{id}</c>.</param>
internal sealed record RetriedTask(long Id, string Outcome, string Url);
