using AgentWorker.Tests.Infrastructure;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// Issue 20: database faults under load, on a PostgreSQL of its own (<see cref="PostgresCluster"/>; the shared server
/// of the other classes is never touched). Two worker processes with every slot busy, then every backend terminated,
/// a fast restart and a crash in sequence (<see cref="DatabaseFaultScenario"/>; the bench runs it at full size).
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class DatabaseFaultsTests
{
    [Fact]
    public async Task TerminateRestartCrash_UnderLoad_EveryTaskResumesAndBothWorkersClaimAgain()
    {
        if (Environment.GetEnvironmentVariable("WORKER_TEST_POSTGRES") is null)
        {
            // Docker-based runs have no local server binaries to start a cluster of its own with.
            Assert.Skip("Needs the local PostgreSQL of scripts/test.");
        }
        var settings = new DatabaseFaultScenario.Settings(Tasks: 60, Turns: 20, TurnMs: 500, MaxRunsPerWorker: 24,
            LeaseDuration: TimeSpan.FromSeconds(30), CrashDowntime: TimeSpan.FromSeconds(5), Refill: TimeSpan.FromSeconds(8),
            Timeout: TimeSpan.FromSeconds(90));

        var result = await DatabaseFaultScenario.RunAsync(settings, line => TestContext.Current.TestOutputHelper?.WriteLine(line),
            TestContext.Current.CancellationToken);

        Assert.True(result.Unfinished.Length == 0, "unfinished: " + result.Unfinished);
        Assert.Equal(settings.Tasks, result.Succeeded);
        Assert.Equal(0, result.InternalErrors);
        Assert.Equal(0, result.RestartedFromScratch);
        Assert.Equal(0, result.WrongStepSequence);
        Assert.All(result.Faults, f => Assert.True(f.RunsInFlight > 0, $"{f.Name}: no run in flight"));
        // The faults did strike runs (their turns were lost and asked again), and the runs resumed from their steps.
        Assert.True(result.Retries > 0 && result.TurnsRepeated > 0, $"the faults struck nothing: {result.Retries} retries, {result.TurnsRepeated} turns repeated");
        Assert.True(result.Resumed > 0, "no task resumed from a checkpoint");
        // A struck run stores its retry once the server is back (RunExecutor.StoreEndAsync), rather than leaving its
        // task to a take-over a whole lease later.
        Assert.Equal(0, result.TakenOver);
        Assert.True(result.WorkersAlive, "a worker process exited");
        Assert.Equal(result.ProbeTasks, result.ProbeSucceeded);
        Assert.All(result.ProbeClaimsPerWorker, n => Assert.True(n > 0, "a worker claimed none of the tasks enqueued after the faults"));
    }
}
