using System.ComponentModel.DataAnnotations;

namespace AgentWorker.Jobs.Llm;

/// <summary>What a turn sends for one model (<c>Llm:Models:&lt;model&gt;</c>), for tasks that name it.</summary>
public sealed class ModelSettings
{
    /// <summary><c>none</c>, <c>minimal</c>, <c>low</c>, <c>medium</c> or <c>high</c>, sent as <c>reasoning.effort</c>; unset sends none.</summary>
    [RegularExpression("^(none|minimal|low|medium|high)$", ErrorMessage = "ReasoningEffort must be none, minimal, low, medium or high.")]
    public string? ReasoningEffort { get; set; }

    /// <summary>Upper bound on the tokens of one turn of this model; unset falls back to <c>Llm:MaxOutputTokens</c>.</summary>
    [Range(16, 1_000_000, ErrorMessage = "MaxOutputTokens must be between 16 and 1000000.")]
    public int? MaxOutputTokens { get; set; }
}
