using System.Globalization;
using System.Text;
using AgentWorker.Testing;

namespace AgentWorker.Bench;

/// <summary>
/// Database faults under load at issue 20's size: two worker processes, 300 tasks, 244 runs in flight, every backend
/// terminated, a fast restart, a crash with the server down 5 s (<see cref="DatabaseFaultScenario"/>, which the test
/// suite runs small). The worker keeps its defaults but for the runs and sockets per process. Written to
/// <c>faults.md</c> next to the report.
/// </summary>
internal static class FaultScenario
{
    private static readonly DatabaseFaultScenario.Settings s_full = new(Tasks: 300, Turns: 20, TurnMs: 2000, MaxRunsPerWorker: 122,
        LeaseDuration: TimeSpan.FromSeconds(60), CrashDowntime: TimeSpan.FromSeconds(5), Refill: TimeSpan.FromSeconds(40),
        Timeout: TimeSpan.FromMinutes(6));

    /// <summary>
    /// Not in the smoke run, deliberately: a run struck by all three faults waits a minute for its third retry at any
    /// size, and the test suite runs this scenario in CI anyway (<c>DatabaseFaultsTests</c>).
    /// </summary>
    public static async Task<DatabaseFaultScenario.Result> RunAsync()
    {
        var result = await DatabaseFaultScenario.RunAsync(s_full, line => Console.WriteLine("  faults " + line), CancellationToken.None);
        if (result.Unfinished.Length > 0 || result.Succeeded < result.Settings.Tasks)
        {
            throw new InvalidOperationException($"faults: {result.Succeeded} of {result.Settings.Tasks} tasks succeeded; unfinished: {result.Unfinished}");
        }
        return result;
    }

    /// <summary>The issue's "done": every task succeeded, none restarted from scratch, both workers alive and claiming.</summary>
    public static bool Met(DatabaseFaultScenario.Result r) =>
        r.Succeeded == r.Settings.Tasks && r.RestartedFromScratch == 0 && r.WrongStepSequence == 0 && r.InternalErrors == 0
        && r.WorkersAlive && r.ProbeSucceeded == r.ProbeTasks && r.ProbeClaimsPerWorker.All(n => n > 0);

    public static string Write(DatabaseFaultScenario.Result r, string machine, string directory)
    {
        ArgumentNullException.ThrowIfNull(r);
        var s = r.Settings;
        var md = new StringBuilder();
        md.AppendLine("# Database faults under load (issue 20)");
        md.AppendLine();
        md.AppendLine("Produced by `bash bench/run` (or `bash bench/run --faults-only`, this scenario alone); the test suite runs the same");
        md.AppendLine("scenario small (`DatabaseFaultsTests`).");
        md.AppendLine();
        md.AppendLine(machine);
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Two worker processes (`Worker__MaxRuns` = `Llm__MaxSockets` = {s.MaxRunsPerWorker} each, `Worker__LeaseDuration` {s.LeaseDuration.TotalSeconds:F0} s,");
        md.AppendLine(CultureInfo.InvariantCulture, $"every other setting its default) on a PostgreSQL cluster of their own; {s.Tasks} tasks of {s.Turns} model turns (a `query` call");
        md.AppendLine(CultureInfo.InvariantCulture, $"between two, {s.TurnMs} ms per turn). Once every slot is busy with a run that has stored a step, three faults in");
        md.AppendLine("sequence, each once both processes have claimed again after the one before and the runs it failed are back");
        md.AppendLine(CultureInfo.InvariantCulture, $"(up to {s.Refill.TotalSeconds:F0} s); then, once every task has ended, more tasks than one process takes at once, which both must claim.");
        md.AppendLine("A run a fault strikes fails at its next statement (a step it cannot store) and goes back to the queue, resuming");
        md.AppendLine("after its last stored step 5 s, 20 s, 1 min later (first, second, third retry): only the turn in flight is asked again.");
        md.AppendLine("A worker claims again as soon as it has a free slot and a task is due (queued, or a retry come due).");
        md.AppendLine();
        md.AppendLine("| fault | tasks running | server away | runs failed and retried until the next fault (some on a connection it left dead) | a task enqueued once the server was back: claimed after | each worker's first claim after the server was back |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var f in r.Faults)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Name} | {f.RunsInFlight} | {f.OutageSeconds:F1} s | {f.RunsRetried} | {f.NewTaskClaimSeconds * 1000:F0} ms | {string.Join(" / ", f.ClaimAgainSeconds.Select(c => c is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) + " s" : "none"))} |");
        }
        md.AppendLine();
        md.AppendLine("| figure | measured |");
        md.AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| tasks succeeded | **{r.Succeeded} of {s.Tasks}** ({r.InternalErrors} `internal_error`) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| tasks restarted from scratch: stored more model turns than the script has, or turn 1's call twice | **{r.RestartedFromScratch}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| tasks whose steps differ from the script's model, tool, …, model | {r.WrongStepSequence} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| tasks resumed from their steps (steps stored by more than one attempt) | {r.Resumed} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| retries (`agent.tasks.retries`) | {r.Retries} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| take-overs (attempts that are no retry): runs that could not store their retry, resumed once their claim expired | {r.TakenOver} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| model turns repeated: served by the model, lost to a fault, asked again ({r.TurnsServed} served, {r.TurnsStored} stored) | **{r.TurnsRepeated}**: {r.RepeatedPerRunFailed:F2} per run failed, {r.RepeatedPerRunStruck:F2} per task running at a fault |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| both workers alive and claiming after the faults | **{(r.WorkersAlive && r.ProbeClaimsPerWorker.All(n => n > 0) ? "yes" : "no")}**: {r.ProbeSucceeded} of {r.ProbeTasks} new tasks succeeded, claimed {string.Join(" / ", r.ProbeClaimsPerWorker)}, pickup p50 {r.ProbePickupP50Ms:F1} ms |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| scenario time, cluster start included | {r.Seconds:F0} s |");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Worker logs: {r.WorkerEvents}.");
        md.AppendLine();
        md.AppendLine("Before the fix of issue 20 (a run's end is stored again while the database is briefly away), 257 of 274 failed runs");
        md.AppendLine("could not store their retry either (the pool handed out the connections the fault had killed, or the server was");
        md.AppendLine("still away) and waited a whole lease (60 s) for a take-over, and a task enqueued after the terminated backends");
        md.AppendLine("waited 2.8 s for its claim; measured at commit df39439.");
        var path = Path.Combine(directory, "faults.md");
        Directory.CreateDirectory(directory);
        File.WriteAllText(path, md.ToString());
        return path;
    }
}
