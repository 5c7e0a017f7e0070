using System.Diagnostics;
using System.Runtime.InteropServices;
using AgentWorker.Bench;

// bash bench/run [--smoke]: every scenario against a local PostgreSQL (WORKER_TEST_POSTGRES, an admin connection
// string, set by scripts/pg-up) and the in-process simulator; report under bench/results (smoke: .local/bench-smoke).
if (args is ["enqueue-ref", var connection, var count, var gapMs])
{
    await PlainHangfire.EnqueueFromHereAsync(connection, int.Parse(count, System.Globalization.CultureInfo.InvariantCulture),
        TimeSpan.FromMilliseconds(int.Parse(gapMs, System.Globalization.CultureInfo.InvariantCulture)));
    return 0;
}

var smoke = args.Contains("--smoke");
var root = AgentWorker.Testing.Repository.Root;
var output = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault()
    ?? Path.Combine(root, smoke ? ".local/bench-smoke" : "bench/results");
var admin = Environment.GetEnvironmentVariable("WORKER_TEST_POSTGRES")
    ?? throw new InvalidOperationException("WORKER_TEST_POSTGRES (an admin connection string) is not set; run through bench/run.");

var watch = Stopwatch.StartNew();
Console.WriteLine(smoke ? "Benchmarks, smoke run (tiny samples)" : "Benchmarks, full run");
async Task<T> InFreshDatabaseAsync<T>(Func<BenchDatabase, Task<T>> scenario)
{
    await using var db = await BenchDatabase.CreateAsync(admin, root);
    return await scenario(db);
}

if (args.Contains("--load-only"))
{
    // A quick look at throughput and concurrency alone (console only, no report).
    await InFreshDatabaseAsync(db => LoadScenario.ThroughputAsync(db, smoke));
    await InFreshDatabaseAsync(db => LoadScenario.ConcurrencyAsync(db, smoke));
    return 0;
}

if (args.Contains("--overhead-only"))
{
    // The worker's cost per model turn and per tool call alone (console only, no report); --ttft N gives the model a
    // time to first token (a tool call's connection is opened ahead while the model thinks).
    var ttft = int.Parse(args.SkipWhile(a => a != "--ttft").Skip(1).FirstOrDefault() ?? "0", System.Globalization.CultureInfo.InvariantCulture);
    var only = await InFreshDatabaseAsync(db => OverheadScenario.RunAsync(db, smoke, SimulatorProfile.ZeroLatency with { TimeToFirstTokenMs = ttft }));
    Console.WriteLine($"  per turn p50 {Stats.Ms(only.TurnP50)} ms p99 {Stats.Ms(only.TurnP99)} ms ({only.Turns} turns); "
        + $"per tool call p50 {Stats.Ms(only.ToolP50)} ms p99 {Stats.Ms(only.ToolP99)} ms ({only.ToolCalls} calls); bare query p50 {Stats.Ms(only.BareQueryP50)} ms");
    return 0;
}

if (args.Contains("--storage-only"))
{
    // Storage and retention alone (console only, no report).
    await InFreshDatabaseAsync(db => StorageScenario.RunAsync(scenario => InFreshDatabaseAsync(scenario), db, smoke));
    return 0;
}

if (args.Contains("--mcp-only"))
{
    // The MCP stdio call overhead alone (issue 22): mcp.md, the report left as it is.
    var mcpAlone = await McpScenario.RunAsync(smoke);
    Console.WriteLine($"MCP: {McpScenario.Write(mcpAlone, await MachineAsync(), output)}");
    return 0;
}

if (args.Contains("--faults-only"))
{
    // Database faults under load alone (issue 20), at full size: faults.md, the report left as it is.
    var alone = await FaultScenario.RunAsync();
    Console.WriteLine($"Faults: {FaultScenario.Write(alone, await MachineAsync(), output)}");
    return 0;
}

if (args.Contains("--tools-only"))
{
    // A registered C# tool call's overhead beside the database tool's (issue 22): tools.md, the report left as it is.
    var tools = await InFreshDatabaseAsync(db => CSharpToolScenario.RunAsync(db, smoke));
    Console.WriteLine($"  C# tool overhead p50 {Stats.Ms(tools.OverheadP50)} ms p99 {Stats.Ms(tools.OverheadP99)} ms (own time p50 {Stats.Ms(tools.DirectP50)} ms); "
        + $"journaled p50 {Stats.Ms(tools.JournaledP50)} ms; database tool p50 {Stats.Ms(tools.Database.ToolP50)} ms p99 {Stats.Ms(tools.Database.ToolP99)} ms");
    Console.WriteLine($"Tools: {CSharpToolScenario.Write(tools, await MachineAsync(), output)}");
    return 0;
}

var transport = await InFreshDatabaseAsync(db => TransportScenario.RunAsync(db, smoke));
var overhead = await InFreshDatabaseAsync(db => OverheadScenario.RunAsync(db, smoke));
Console.WriteLine($"  overhead per turn p50 {Stats.Ms(overhead.TurnP50)} ms, per tool call p50 {Stats.Ms(overhead.ToolP50)} ms");
var pickup = await InFreshDatabaseAsync(db => PickupScenario.RunAsync(db, smoke));
var (throughput, plain) = await InFreshDatabaseAsync(db => LoadScenario.ThroughputAsync(db, smoke));
var concurrency = await InFreshDatabaseAsync(db => LoadScenario.ConcurrencyAsync(db, smoke));
var storage = await InFreshDatabaseAsync(db => StorageScenario.RunAsync(scenario => InFreshDatabaseAsync(scenario), db, smoke));
var faults = smoke ? null : await FaultScenario.RunAsync();
var mcp = await McpScenario.RunAsync(smoke);

var machine = await MachineAsync();
if (faults is not null)
{
    Console.WriteLine($"Faults: {FaultScenario.Write(faults, machine, output)}");
}
Console.WriteLine($"MCP: {McpScenario.Write(mcp, machine, output)}");
var report = Report.Write(new Report.Results(machine, transport, overhead, pickup, throughput, plain, concurrency, storage, faults, smoke), output);
Console.WriteLine($"Report: {report}");
return 0;

async Task<string> MachineAsync()
{
    var postgres = await InFreshDatabaseAsync(db => db.ScalarAsync<string>("select version()"));
    return $"Machine: {Environment.ProcessorCount} cores ({CpuModel()}), {Memory()}, {RuntimeInformation.OSDescription}; "
        + $".NET {Environment.Version}; {postgres.Split(" on ")[0]}; commit {Git(root)}; run took {watch.Elapsed.TotalMinutes:F1} min.";
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";

static string Memory() =>
    $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024):F0} GiB";

static string Git(string root)
{
    try
    {
        using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { WorkingDirectory = root, RedirectStandardOutput = true })!;
        var sha = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        return sha.Length > 0 ? sha : "unknown";
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "unknown";
    }
}
