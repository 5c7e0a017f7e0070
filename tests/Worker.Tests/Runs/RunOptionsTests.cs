using AgentWorker.Worker;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Runs;

/// <summary>The executor's settings fail at start-up, naming the key, when they are wrong.</summary>
public sealed class RunOptionsTests
{
    private static readonly string[] Required =
        ["--ConnectionStrings:App=Host=127.0.0.1;Port=1;Database=none;Username=none", "--Llm:ApiKey=k", "--Llm:Model=m"];

    [Theory]
    [InlineData("--Worker:MaxRuns=0", "Worker:MaxRuns (environment Worker__MaxRuns) must be between 1 and 100000")]
    [InlineData("--Worker:MaxRuns=100001", "Worker:MaxRuns (environment Worker__MaxRuns)")]
    [InlineData("--Worker:ControlWorkers=0", "Worker:ControlWorkers (environment Worker__ControlWorkers)")]
    [InlineData("--Llm:MaxSockets=0", "Llm:MaxSockets (environment Llm__MaxSockets) must be between")]
    [InlineData("--Worker:LeaseDuration=00:00:00.5", "Worker:LeaseDuration")]
    [InlineData("--Worker:PollInterval=00:00:00", "Worker:PollInterval")]
    public async Task Start_WithASettingOutOfRange_FailsNamingIt(string setting, string named)
    {
        using var host = WorkerHost.CreateBuilder([.. Required, setting]).Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithTheOldConcurrencySetting_FailsNamingItsReplacement()
    {
        var error = Assert.Throws<InvalidOperationException>(() => WorkerHost.CreateBuilder([.. Required, "--Worker:Concurrency=20"]));

        Assert.Contains("Worker__MaxRuns", error.Message, StringComparison.Ordinal);
    }
}
