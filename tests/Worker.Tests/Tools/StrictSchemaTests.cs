using System.Text.Json.Nodes;
using AgentWorker.Jobs.Agent;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentWorker.Tests.Tools;

/// <summary>Every tool the worker registers goes on the wire as a schema the API accepts in strict mode.</summary>
public sealed class StrictSchemaTests
{
    private static async Task<JsonArray> RegisteredDefinitionsAsync()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:App"] = "Host=127.0.0.1;Port=1;Database=none;Username=none",
            ["Llm:Model"] = "m",
        }).Build();
        var services = new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)).AddSingleton<IConfiguration>(config);
        services.AddAgentWorker(config);
        await using var provider = services.BuildServiceProvider();
        // The tools array exactly as a response.create carries it.
        var loop = provider.GetRequiredService<AgentLoop>();
        return loop.ToolSetOf(provider.GetRequiredService<IToolRegistry>().Select(null)).ResponsesTools;
    }

    [Fact]
    public async Task Definitions_OfEveryRegisteredTool_UseOnlyTheStrictSubset()
    {
        var definitions = await RegisteredDefinitionsAsync();

        Assert.Equal(["describe_table", "list_tables", "query"], definitions.Select(d => (string?)d!["name"]));
        foreach (var definition in definitions.OfType<JsonObject>())
        {
            var parameters = (JsonObject)definition["parameters"]!;
            Assert.True((bool)definition["strict"]!);
            Assert.Empty(StrictSchema.Unsupported(parameters));
            // Strict mode also wants every property required and no others allowed.
            var properties = ((JsonObject)parameters["properties"]!).Select(p => p.Key).Order(StringComparer.Ordinal);
            Assert.Equal(properties, ((JsonArray)parameters["required"]!).Select(r => (string)r!).Order(StringComparer.Ordinal));
            Assert.False((bool)parameters["additionalProperties"]!);
        }
    }

    [Fact]
    public void ForWire_KeywordsOutsideTheSubset_AreCutAtEveryDepth_AndTheToolKeepsItsOwnLimits()
    {
        var schema = (JsonObject)JsonNode.Parse("""
            {"type":"object","additionalProperties":false,"required":["a","b"],
             "properties":{"a":{"type":"string","maxLength":5,"minLength":1},
                           "b":{"type":"array","maxItems":3,"items":{"type":"string","maxLength":9}}}}
            """)!;

        var wire = StrictSchema.ForWire(schema);

        Assert.Equal(["/properties/a/maxLength", "/properties/a/minLength", "/properties/b/items/maxLength"], StrictSchema.Unsupported(schema));
        Assert.Empty(StrictSchema.Unsupported(wire));
        Assert.Equal(3, (int)wire["properties"]!["b"]!["maxItems"]!);
        Assert.Equal(5, (int)schema["properties"]!["a"]!["maxLength"]!); // the tool's own schema is untouched
    }
}
