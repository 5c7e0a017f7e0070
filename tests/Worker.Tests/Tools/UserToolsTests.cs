using System.ComponentModel;
using System.Diagnostics;
using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Hangfire;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Tests.Tools;

/// <summary>
/// Tools a host adds on the worker builder, through the real loop and the simulator: how they are declared to the model,
/// what they receive, and that a tool which throws, hangs, floods or is named twice harms neither the task nor the
/// worker.
/// </summary>
public sealed class UserToolsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A scoped service: a new one per call proves each call has its own scope.</summary>
    public sealed class CallCounter
    {
        public int Calls { get; set; }
    }

    /// <summary>Tools as a class: every [Description]d public method, the class resolved from the call's scope.</summary>
    public sealed class CrmTools(CallCounter counter)
    {
        [Description("Looks a customer up by id.")]
        [ToolEffects(ToolSideEffects.ReadOnly)]
        public string LookupCustomer([Description("the customer's id")] string customerId, ToolCallContext call)
        {
            counter.Calls++;
            return $"customer {customerId}: calls in this scope {counter.Calls}, task {call.TaskId}, key {call.IdempotencyKey}";
        }

        [Description("Always fails.")]
        public static string Explode() => throw new InvalidOperationException("the CRM is down");

        public static string NotATool() => "never offered";
    }

    private static async Task<(TaskOutcome Outcome, long Id)> RunAsync(ToolWorld world, string prompt, params string[] tools)
    {
        var id = await world.EnqueueAsync(prompt);
        return (await world.RunAsync(id, prompt, tools, attempt: 1, Ct), id);
    }

    [Fact]
    public async Task ClassTools_EachCallInItsOwnScope_WithItsContext_NotInTheSchema()
    {
        await using var world = await ToolWorld.StartAsync(w =>
        {
            w.Services.AddScoped<CallCounter>();
            w.AddTools<CrmTools>();
        });
        const string prompt = """[call:LookupCustomer]{"customerId":"c-7"}[/call] [call:LookupCustomer]{"customerId":"c-8"}[/call]""";

        var (outcome, id) = await RunAsync(world, prompt, "LookupCustomer", "Explode");

        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        Assert.Contains($"customer c-7: calls in this scope 1, task {id}, key agentworker:{id}:", outcome.ResultText, StringComparison.Ordinal);
        Assert.Contains("customer c-8: calls in this scope 1", outcome.ResultText, StringComparison.Ordinal);
        var selection = world.Services.GetRequiredService<IToolRegistry>().Select(["LookupCustomer", "Explode", "NotATool"]);
        Assert.Equal(["Explode", "LookupCustomer"], selection.Names);
        Assert.Equal(["NotATool"], selection.Missing);
        var lookup = selection.Tools.Single(t => t.Name == "LookupCustomer");
        Assert.Equal(ToolSideEffects.ReadOnly, lookup.SideEffects);
        Assert.Equal(ToolSideEffects.SideEffects, selection.Tools.Single(t => t.Name == "Explode").SideEffects);
        Assert.Equal(["customerId"], ((System.Text.Json.Nodes.JsonObject)lookup.WireSchema["properties"]!).Select(p => p.Key));
        Assert.True(lookup.Strict);
    }

    [Fact]
    public async Task ToolThatThrows_IsAToolErrorWithItsMessage_TheTaskGoesOn()
    {
        await using var world = await ToolWorld.StartAsync(w => w.AddTools<CrmTools>());

        var (outcome, id) = await RunAsync(world, "[call:Explode]{}[/call]", "Explode");

        Assert.Equal((TaskStatuses.Succeeded, "Explode: ERROR: Explode failed: the CRM is down"), (outcome.Status, outcome.ResultText));
        Assert.Equal("Explode failed: the CRM is down",
            await world.Database.ScalarAsync<string>("select error from agent.steps where task_id = @id and kind = 'tool'", new { id }));
    }

    [Fact]
    public async Task ToolThatHangs_PastItsTimeout_IsAToolError_WhetherItBlocksOrIgnoresTheToken()
    {
        var release = new ManualResetEventSlim();
        await using var world = await ToolWorld.StartAsync(w => w
            .AddTool(() => { release.Wait(TimeSpan.FromSeconds(30)); return "late"; }, "blocks", "Blocks its thread.",
                new AgentToolOptions { Timeout = TimeSpan.FromMilliseconds(300), SideEffects = ToolSideEffects.ReadOnly })
            .AddTool(async () => { await Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None); return "late"; }, "ignores", "Ignores cancellation.",
                new AgentToolOptions { Timeout = TimeSpan.FromMilliseconds(300) }));
        var watch = Stopwatch.StartNew();

        var (outcome, _) = await RunAsync(world, "[call:blocks]{}[/call] [call:ignores]{}[/call]", "blocks", "ignores");

        release.Set();
        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        Assert.Contains("blocks: ERROR: blocks did not finish within 0.3 s and was cancelled.", outcome.ResultText, StringComparison.Ordinal);
        Assert.Contains("ignores: ERROR: ignores did not finish within 0.3 s and was cancelled; whether it took effect is unknown.", outcome.ResultText, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task ToolThatReturns50MB_IsCutToTheOutputLimit_StoredAndShownCut()
    {
        await using var world = await ToolWorld.StartAsync(w => w.AddTool(() => new string('x', 50_000_000), "flood", "Returns 50 MB."));

        var (outcome, id) = await RunAsync(world, "[call:flood]{}[/call]", "flood");

        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        var stored = await world.Database.ScalarAsync<string>("select items::text from agent.steps where task_id = @id and kind = 'tool'", new { id });
        Assert.InRange(stored.Length, 20_000, 21_000);
        Assert.Contains("(cut: the tool returned 50000000 characters, the limit is 20000)", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptionalParameters_AreSentNonStrict_ArgumentsStillCheckedBeforeTheCall()
    {
        var calls = 0;
        await using var world = await ToolWorld.StartAsync(w => w.AddTool(
            (string query, int limit = 10) => { calls++; return $"{query}:{limit}"; }, "search", "Searches tickets."));
        var registry = world.Services.GetRequiredService<IToolRegistry>();
        var search = registry.Select(["search"]).Tools.Single();
        Assert.False(search.Strict);
        Assert.Contains("\"limit\" is optional", search.WireNotes, StringComparison.Ordinal);
        var set = world.Services.GetRequiredService<AgentLoop>().ToolSetOf(registry.Select(["search"]));
        Assert.False(Assert.Single(set.Definitions).Strict);

        var (outcome, _) = await RunAsync(world, """[call:search]{"limit":"ten"}[/call] [call:search]{"query":"late","limit":3}[/call]""", "search");

        Assert.Equal(TaskStatuses.Succeeded, outcome.Status);
        Assert.Contains("search: ERROR: Invalid arguments for search:", outcome.ResultText, StringComparison.Ordinal);
        Assert.Contains("search: late:3", outcome.ResultText, StringComparison.Ordinal);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ATool_OutsideTheTasksSelection_IsUnknownToIt()
    {
        await using var world = await ToolWorld.StartAsync(w => w.AddTools<CrmTools>());

        var (outcome, _) = await RunAsync(world, "[call:Explode]{}[/call]", "LookupCustomer");

        Assert.StartsWith("Explode: ERROR: Unknown tool \"Explode\". Available tools: LookupCustomer.", outcome.ResultText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAIFunction_ReadsItsContext_FromItsArguments_AndFromCurrent()
    {
        var function = AIFunctionFactory.Create((AIFunctionArguments arguments) =>
            $"{ToolCallContext.From(arguments)?.IdempotencyKey} {ToolCallContext.Current?.IdempotencyKey}", "whoami", "Says the call's key.");
        await using var world = await ToolWorld.StartAsync(w => w.AddTool(function));

        var (outcome, id) = await RunAsync(world, "[call:whoami]{}[/call]", "whoami");

        var key = (outcome.ResultText ?? "").Split(' ')[1];
        Assert.StartsWith($"agentworker:{id}:", key, StringComparison.Ordinal);
        Assert.Equal($"whoami: {key} {key}", outcome.ResultText);
    }

    public static TheoryData<string, string> BadNames => new()
    {
        { "query", "Two tools are named \"query\" (csharp and database)" },
        { "has space", "The tool \"has space\" (csharp) cannot be registered: a tool name must be 1 to 64 letters" },
        { "crm__lookup", "'__' is reserved for MCP tools" },
        { new string('a', 65), "a tool name must be 1 to 64 letters" },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task AToolNamedTwiceOrBadly_FailsTheWorkersStart_SayingWhy(string name, string message)
    {
        var server = await TestContext.Current.GetFixture<Infrastructure.PostgresServer>();
        await using var database = await server!.CreateDatabaseAsync();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:App"] = database.ConnectionString,
            ["ConnectionStrings:Target"] = database.ReaderConnectionString,
            ["Llm:BaseUrl"] = "http://127.0.0.1:9/v1",
            ["Llm:Model"] = "sim-1",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        builder.Services.AddAgentWorker(builder.Configuration, w => w.AddTool(() => "x", name, "A tool."));
        builder.Services.AddHangfire((sp, h) => h.UseAgentStorage(builder.Configuration).UseAgentWorker(sp));
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClassWithoutDescribedMethods_IsRefusedWhenAdded()
    {
        var services = new ServiceCollection();
        var config = new ConfigurationBuilder().Build();

        var error = Assert.Throws<ArgumentException>(() => services.AddAgentWorker(config, w => w.AddTools<CallCounter>()));

        Assert.Contains("CallCounter has no public method with a [Description] attribute", error.Message, StringComparison.Ordinal);
    }
}
