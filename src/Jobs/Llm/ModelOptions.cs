using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Llm;

/// <summary>One model's options (<c>Llm:Models:&lt;model&gt;</c>, environment <c>Llm__Models__&lt;model&gt;__…</c>), for tasks that name it.</summary>
public sealed class ModelOptions
{
    /// <summary><c>none</c>, <c>minimal</c>, <c>low</c>, <c>medium</c> or <c>high</c>, sent as <c>reasoning.effort</c>; unset sends none.</summary>
    [RegularExpression("^(none|minimal|low|medium|high)$", ErrorMessage = "ReasoningEffort must be none, minimal, low, medium or high.")]
    public string? ReasoningEffort { get; set; }

    /// <summary>Upper bound on the tokens of one turn of this model; unset falls back to <c>Llm:MaxOutputTokens</c>.</summary>
    [Range(16, 1_000_000, ErrorMessage = "MaxOutputTokens must be between 16 and 1000000.")]
    public int? MaxOutputTokens { get; set; }

    /// <summary>
    /// What runs this model's turns: <c>Responses</c> (the pooled Responses WebSocket with HTTP/SSE fallback at
    /// <c>Llm:BaseUrl</c>) or <c>ChatClient</c> (the <c>IChatClient</c> the host registered for this model name). Unset:
    /// the registered <c>IChatClient</c> when there is one, else <c>Responses</c>.
    /// </summary>
    /// <remarks>
    /// Text, not the enum: the configuration binder skips a dictionary entry's value it cannot convert without a word, and
    /// a typo here must fail at start.
    /// </remarks>
    [RegularExpression("^(?i:responses|chatclient)$", ErrorMessage = "Client must be Responses or ChatClient.")]
    public string? Client { get; set; }

    /// <summary><see cref="Client"/> as its kind; null when unset (or not a kind: the validation then refuses it).</summary>
    internal ModelClientKind? ClientKind => Enum.TryParse<ModelClientKind>(Client, ignoreCase: true, out var kind) ? kind : null;
}
