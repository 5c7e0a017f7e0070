using System.ComponentModel.DataAnnotations;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Tests.Llm;

/// <summary>Reasoning effort and output cap: the default model's settings, per-model settings, and what is sent for others.</summary>
public sealed class LlmOptionsTests
{
    private static LlmOptions Options()
    {
        var options = new LlmOptions { Model = "gpt-5", ReasoningEffort = "low", MaxOutputTokens = 4000 };
        options.Models["gpt-5-mini"] = new ModelOptions { ReasoningEffort = "high" };
        options.Models["o-big"] = new ModelOptions { ReasoningEffort = "medium", MaxOutputTokens = 9000 };
        return options;
    }

    [Theory]
    [InlineData(null, "low", 4000)]
    [InlineData("gpt-5", "low", 4000)]
    [InlineData("gpt-5-mini", "high", 4000)]
    [InlineData("o-big", "medium", 9000)]
    [InlineData("gpt-4.1", null, 4000)] // a model not listed may not reason: no effort is sent
    public void SettingsFor_TaskModel_PicksItsOwnOrTheDefaultModelsSettings(string? taskModel, string? effort, int maxOutput)
    {
        var (sentEffort, sentMax) = Options().SettingsFor(taskModel);

        Assert.Equal(effort, sentEffort);
        Assert.Equal(maxOutput, sentMax);
    }

    [Fact]
    public void Validate_APerModelEffortOutOfRange_NamesTheModel()
    {
        var options = Options();
        options.Models["gpt-5-mini"].ReasoningEffort = "extreme";

        var results = options.Validate(new ValidationContext(options)).ToList();

        Assert.Contains(results, r => r.ErrorMessage!.Contains("Llm:Models:gpt-5-mini", StringComparison.Ordinal));
    }
}
