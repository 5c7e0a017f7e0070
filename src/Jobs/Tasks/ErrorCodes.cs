namespace AgentWorker.Jobs.Tasks;

/// <summary>The values of <c>agent.tasks.error_code</c>: why a task failed or was cancelled.</summary>
public static class ErrorCodes
{
    /// <summary>The task passed its <c>deadline</c>.</summary>
    public const string Deadline = "deadline";

    /// <summary>The model still called tools after <c>max_steps</c> turns.</summary>
    public const string MaxSteps = "max_steps";

    /// <summary>Too many tool calls in a row failed.</summary>
    public const string ToolErrors = "tool_errors";

    /// <summary>
    /// The worker stopped while a tool with side effects ran, and the tool is not idempotent: whether the call took
    /// effect is unknown. An operator checks, then <c>agent.retry(task_id, in_doubt => 'rerun' | 'skip')</c>.
    /// </summary>
    public const string ToolInDoubt = "tool_in_doubt";

    /// <summary>The model or its transport failed in a way a retry does not fix, or the retries ran out.</summary>
    public const string ModelError = "model_error";

    /// <summary>The database failed and the retries ran out.</summary>
    public const string DatabaseError = "database_error";

    /// <summary>A bug or an unexpected failure of the worker.</summary>
    public const string InternalError = "internal_error";

    /// <summary>Cancelled (<c>agent.cancel</c>, the REST API, or its Hangfire job deleted); the reason is in <c>cancel_reason</c>.</summary>
    public const string Cancelled = "cancelled";
}
