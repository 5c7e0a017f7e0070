using AgentWorker.Jobs.Tools;
using AgentWorker.Jobs.Tools.Mcp;

namespace AgentWorker.Tests.Tools.Mcp;

/// <summary>
/// The test server over stdio, configured as an operator would (<c>Tools:Mcp:everything:Command</c>, <c>__Arguments__0</c>,
/// <c>__Environment__GREETING</c>): its tools listed as <c>everything__*</c> with their side effects, called through the
/// registry, its process's environment, and a tool added while it runs.
/// </summary>
public sealed class McpStdioServerTests(McpStdioServerTests.Server server) : IClassFixture<McpStdioServerTests.Server>
{
    /// <summary>Secrets the worker process has and a server must never see (set before the server starts).</summary>
    private const string SecretVariable = "ConnectionStrings__McpIsolationProbe";
    private const string ApiKeyVariable = "OPENAI_API_KEY";

    public sealed class Server : IAsyncLifetime
    {
        public McpHarness Harness { get; private set; } = null!; // Set in InitializeAsync.

        public async ValueTask InitializeAsync()
        {
            Environment.SetEnvironmentVariable(SecretVariable, "Host=db;Password=worker-secret");
            Environment.SetEnvironmentVariable(ApiKeyVariable, Environment.GetEnvironmentVariable(ApiKeyVariable) ?? "sk-worker-secret");
            var configuration = McpHarness.StdioConfiguration("everything");
            configuration["Tools:Mcp:everything:Environment:GREETING"] = "hello from the configuration";
            Harness = await McpHarness.StartAsync(configuration);
        }

        public async ValueTask DisposeAsync() => await Harness.DisposeAsync();
    }

    private McpHarness Harness => server.Harness;

    [Fact]
    public void Start_ListsTheServersTools_PrefixedWithItsName_WithSideEffectsFromTheirAnnotations()
    {
        var tools = Harness.Registry.Select(["everything__*"]).Tools.ToDictionary(t => t.Name);

        Assert.Contains("everything__echo", tools.Keys);
        Assert.Contains("everything__slow", tools.Keys);
        // A character outside the Responses rule ('.') becomes '_'.
        Assert.Contains("everything__dotted_name", tools.Keys);
        Assert.All(tools.Values, t => Assert.Equal("mcp:everything", t.Source));
        Assert.Equal(ToolSideEffects.ReadOnly, tools["everything__echo"].SideEffects);
        Assert.Equal(ToolSideEffects.Idempotent, tools["everything__add"].SideEffects);
        Assert.Equal(ToolSideEffects.SideEffects, tools["everything__slow"].SideEffects);
        Assert.Equal("Returns the text it is given.", tools["everything__echo"].Description);
        Assert.Equal("string", tools["everything__echo"].Schema["properties"]!["text"]!["type"]!.GetValue<string>());
        Assert.Equal(McpServerState.Connected, Assert.Single(Harness.Servers.States()).Status);
    }

    [Fact]
    public async Task InvokeAsync_CallsTheServer_AndReturnsItsText()
    {
        var selection = Harness.Registry.Select(["everything__*"]);

        var echo = await Harness.CallAsync(selection, "everything__echo", """{"text":"héllo"}""");
        var sum = await Harness.CallAsync(selection, "everything__add", """{"a":2,"b":40}""");
        var dotted = await Harness.CallAsync(selection, "everything__dotted_name");

        Assert.Equal(new ToolResult("héllo", IsError: false), echo);
        Assert.Equal(new ToolResult("42", IsError: false), sum);
        Assert.Equal("dotted", dotted.Output);
    }

    [Fact]
    public async Task InvokeAsync_ToolReportsIsError_IsAToolErrorWithItsMessage()
    {
        var result = await Harness.CallAsync("everything__fail", """{"message":"no such customer"}""");

        Assert.True(result.IsError);
        Assert.Equal("no such customer", result.Output);
    }

    [Fact]
    public async Task InvokeAsync_ArgumentsBreakingTheServersSchema_AreRefusedBeforeTheCall()
    {
        var result = await Harness.CallAsync("everything__add", """{"a":"two","b":40}""");

        Assert.True(result.IsError);
        Assert.StartsWith("Invalid arguments for everything__add", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerProcess_SeesOnlyItsConfiguredEnvironmentAndTheStartVariables_NeverTheWorkers()
    {
        async Task<string> Env(string name) => (await Harness.CallAsync("everything__env", $$"""{"name":"{{name}}"}""")).Output;

        // The worker has these (the test process is the worker): the server does not.
        Assert.NotNull(Environment.GetEnvironmentVariable(SecretVariable));
        Assert.Equal("(unset)", await Env(SecretVariable));
        Assert.Equal("(unset)", await Env(ApiKeyVariable));
        if (Environment.GetEnvironmentVariable("WORKER_TEST_POSTGRES") is not null)
        {
            Assert.Equal("(unset)", await Env("WORKER_TEST_POSTGRES"));
        }
        // What is configured for it, and what a program needs to start, it has.
        Assert.Equal("hello from the configuration", await Env("GREETING"));
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), await Env("PATH"));
    }

    [Fact]
    public async Task ToolsListChanged_AddsTheNewToolToTheCatalog()
    {
        var name = "fresh_" + Guid.NewGuid().ToString("N")[..6];
        var before = Harness.Catalog.Current.Version;

        var added = await Harness.CallAsync("everything__add_tool", $$"""{"name":"{{name}}"}""");
        await McpHarness.WaitUntilAsync(() => Harness.Catalog.Current.Tools.ContainsKey("everything__" + name), "the new tool listed");

        Assert.Equal($"added {name}", added.Output);
        Assert.True(Harness.Catalog.Current.Version > before);
        var result = await Harness.CallAsync("everything__" + name);
        Assert.Equal($"I am {name}", result.Output);
        Assert.Equal(ToolSideEffects.ReadOnly, Harness.Catalog.Current.Tools["everything__" + name].SideEffects);
    }
}
