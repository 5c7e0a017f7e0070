using AgentWorker.Jobs.Tools.Mcp;
using Microsoft.Extensions.Options;

namespace AgentWorker.Tests.Tools.Mcp;

/// <summary>A wrong MCP server configuration fails the start with a message naming the key and its environment variable.</summary>
public sealed class McpServerValidationTests
{
    private static string Problems(IDictionary<string, string?> configuration)
    {
        var error = Assert.Throws<OptionsValidationException>(() => McpHarness.StartAsync(configuration).GetAwaiter().GetResult());
        return string.Join("\n", error.Failures);
    }

    [Fact]
    public void NeitherCommandNorUrl_NamesBothKeys()
    {
        var problems = Problems(new Dictionary<string, string?> { ["Tools:Mcp:files:WorkingDirectory"] = "/tmp" });

        Assert.Contains("Tools:Mcp:files:Command (environment Tools__Mcp__files__Command) or Tools:Mcp:files:Url (environment Tools__Mcp__files__Url) must be set", problems, StringComparison.Ordinal);
    }

    [Fact]
    public void RelativeUrl_AndHeadersOnAStdioServer_AreNamed()
    {
        var problems = Problems(new Dictionary<string, string?>
        {
            ["Tools:Mcp:remote:Url"] = "/mcp",
            ["Tools:Mcp:local:Command"] = "dotnet",
            ["Tools:Mcp:local:Headers:Authorization"] = "Bearer x",
        });

        Assert.Contains("Tools:Mcp:remote:Url (environment Tools__Mcp__remote__Url) must be an absolute http or https URL", problems, StringComparison.Ordinal);
        Assert.Contains("Tools:Mcp:local:Headers (environment Tools__Mcp__local__Headers) are for an HTTP server", problems, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerNameThatCannotPrefixToolNames_IsRefused()
    {
        var problems = Problems(new Dictionary<string, string?> { ["Tools:Mcp:my.server:Command"] = "dotnet" });

        Assert.Contains("The MCP server name \"my.server\"", problems, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMcpServer_WithADoubleUnderscoreName_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new AgentWorkerBuilder(new Microsoft.Extensions.DependencyInjection.ServiceCollection(), new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), [])
                .AddMcpServer("a__b", new McpServerOptions { Command = "dotnet" }));

        Assert.Contains("must be 1 to 48 letters", error.Message, StringComparison.Ordinal);
    }
}
