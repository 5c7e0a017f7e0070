using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using System.Text.Json.Nodes;
using AgentWorker.Tests.Infrastructure;
using Json.Schema;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NJsonSchema.CodeGeneration.CSharp;
using NSwag.CodeGeneration.CSharp;

namespace AgentWorker.Tests.EndToEnd;

/// <summary>
/// The REST API as a client generator sees it: the served OpenAPI document is valid OpenAPI 3.1, every answer the API
/// gives is declared for its operation and fits the declared schema, and a C# client generated from the document
/// (NSwag, compiled here) enqueues, reads, lists, cancels and retries tasks.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class RestApiContractTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> DocumentAsync()
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        return await http.GetStringAsync("/api/openapi.json", Ct);
    }

    [Fact]
    public async Task OpenApiDocument_IsValidOpenApi31_WithATitleAVersionAndEveryStatusCode()
    {
        var document = await DocumentAsync();
        await using var stream = typeof(RestApiContractTests).Assembly.GetManifestResourceStream("openapi-3.1-schema.json")!;
        var metaSchema = JsonSchema.FromText(await new StreamReader(stream).ReadToEndAsync(Ct));

        var result = metaSchema.Evaluate(JsonNode.Parse(document), new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.Errors is not null)
            .Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}")));
        var root = JsonNode.Parse(document)!;
        var broken = root.DeepClone().AsObject();
        broken["paths"]!["/api/tasks"]!["post"]!["responses"] = new JsonArray(); // responses must be an object
        Assert.False(metaSchema.Evaluate(broken, new EvaluationOptions { OutputFormat = OutputFormat.List }).IsValid); // the check can fail
        Assert.StartsWith("3.1.", (string?)root["openapi"], StringComparison.Ordinal);
        Assert.Equal("Agent worker task API", (string?)root["info"]!["title"]);
        Assert.False(string.IsNullOrEmpty((string?)root["info"]!["version"]));
        var declared = root["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
                .SelectMany(op => op.Value!["responses"]!.AsObject().Select(r => r.Key)))
            .ToHashSet();
        Assert.Superset(new HashSet<string> { "200", "201", "202", "400", "401", "404", "409", "415" }, declared);
        // tasks: enqueue, list, get, cancel, retry; batches: create, list, get, cancel, results, results.csv;
        // schedules: list, create, get, put, delete, trigger; agents: list, get, put, delete
        Assert.Equal(21, root["paths"]!.AsObject().Sum(p => p.Value!.AsObject().Count));
    }

    /// <summary>What each request below must answer, checked against the document: declared and fitting its schema.</summary>
    public static TheoryData<string, string, string?, string?, int> Requests => new()
    {
        { "post", "/api/tasks", "application/json", """{"prompt": "How many orders are there?"}""", 201 },
        { "post", "/api/tasks", "application/json", """{"prompt": "hi", "max_steps": 500}""", 400 },
        { "post", "/api/tasks", "application/json", """{"prompt": "hi", "max_steps": "5"}""", 400 },
        { "post", "/api/tasks", "application/json", """{"prompt": "hi", "prompt": "again"}""", 400 },
        { "post", "/api/tasks", "application/json", """{"prompt": "a\u0000b"}""", 400 },
        { "post", "/api/tasks", "text/plain", "How many orders?", 415 },
        { "get", "/api/tasks?limit=2", null, null, 200 },
        { "get", "/api/tasks?limit=abc", null, null, 400 },
        { "get", "/api/tasks?status=nope", null, null, 400 },
        { "get", "/api/tasks/{done}", null, null, 200 },
        { "get", "/api/tasks/{queued}", null, null, 200 },
        { "get", "/api/tasks/abc", null, null, 400 },
        { "get", "/api/tasks/987654321", null, null, 404 },
        { "post", "/api/tasks/{queued}/cancel", null, null, 200 },
        { "post", "/api/tasks/{done}/cancel", null, null, 409 },
        { "post", "/api/tasks/987654321/cancel", null, null, 404 },
        { "post", "/api/tasks/{failed}/retry", "application/json", """{"max_steps": 0}""", 400 },
        { "post", "/api/tasks/{done}/retry", null, null, 409 },
        { "post", "/api/tasks/987654321/retry", null, null, 404 },
        { "post", "/api/tasks/{failed}/retry", "text/plain", "please", 415 },
        { "post", "/api/tasks/{failed}/retry", "application/json", """{"max_steps": 10}""", 202 },
        { "post", "/api/batches", "application/json", """{"name": "contract", "prompts": ["How many orders?"]}""", 201 },
        { "post", "/api/batches", "application/json", """{"name": "contract"}""", 400 },
        { "post", "/api/batches", "text/plain", "hi", 415 },
        { "get", "/api/batches?limit=2", null, null, 200 },
        { "get", "/api/batches/{batch}", null, null, 200 },
        { "get", "/api/batches/{batch}/results", null, null, 200 },
        { "get", "/api/batches/987654321", null, null, 404 },
        { "get", "/api/batches/abc", null, null, 400 },
        { "post", "/api/batches/987654321/cancel", null, null, 404 },
        { "get", "/api/schedules", null, null, 200 },
        { "put", "/api/schedules/contract", "application/json", """{"cron": "0 2 * * *", "prompts": ["How many orders?"]}""", 201 },
        { "put", "/api/schedules/contract-bad", "application/json", """{"cron": "0 2 * *", "prompts": ["How many orders?"]}""", 400 },
        { "post", "/api/schedules", "application/json", """{"name": "contract-post", "cron": "@daily", "prompts": ["a"]}""", 201 },
        { "get", "/api/schedules/nope", null, null, 404 },
        { "post", "/api/schedules/nope/trigger", null, null, 404 },
        { "delete", "/api/schedules/nope", null, null, 404 },
        { "get", "/api/agents", null, null, 200 },
        { "put", "/api/agents/contract", "application/json", """{"instructions": "Be brief.", "tools": ["query", "everything__*"], "max_steps": 5, "deadline_after": "00:10:00"}""", 201 },
        { "put", "/api/agents/contract-bad", "application/json", """{"tools": ["every*thing"]}""", 400 },
        { "put", "/api/agents/contract-bad", "text/plain", "hi", 415 },
        { "get", "/api/agents/nope", null, null, 404 },
        { "delete", "/api/agents/nope", null, null, 404 },
        { "post", "/api/tasks", "application/json", """{"prompt": "hi", "agent": "nope"}""", 400 },
        { "post", "/api/tasks", "application/json", """{"prompt": "hi", "tools": ["query"], "run_at": "2099-01-01T00:00:00Z"}""", 201 },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task EveryAnswer_IsDeclaredForItsOperation_AndFitsTheDeclaredSchema(
        string method, string path, string? contentType, string? body, int expected)
    {
        var ids = await TasksAsync();
        var url = ids.Aggregate(path, (p, id) => p.Replace(id.Key, id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType!);
        }

        using var response = await http.SendAsync(request, Ct);

        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == (int)response.StatusCode, $"{method} {url}: {(int)response.StatusCode} {text}");
        var document = JsonNode.Parse(await DocumentAsync())!;
        var operation = document["paths"]![Template(path)]![method]!;
        var declared = operation["responses"]![expected.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        Assert.True(declared is not null, $"{method} {path} answers {expected}, which its operation does not declare");
        var media = response.Content.Headers.ContentType?.MediaType!;
        var schema = declared["content"]?[media]?["schema"];
        Assert.True(schema is not null, $"{method} {path} answers {expected} as {media}, which is not declared");
        AssertFits(document, schema, text);
        if (expected >= 400)
        {
            Assert.False(string.IsNullOrEmpty((string?)JsonNode.Parse(text)!["detail"] ?? (string?)JsonNode.Parse(text)!["title"]));
        }
    }

    private static Task<Dictionary<string, long>>? s_tasks;

    /// <summary>One task of each kind the requests need, made once for the class: done, queued for later, failed.</summary>
    private Task<Dictionary<string, long>> TasksAsync()
    {
        return LazyInitializer.EnsureInitialized(ref s_tasks, async () =>
        {
            var ids = new Dictionary<string, long>
            {
                ["{done}"] = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many customers?')"),
                ["{queued}"] = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'later', run_at => now() + interval '1 hour')"),
                ["{failed}"] = await env.Database.ScalarAsync<long>("select agent.enqueue(prompt => 'How many products?', max_steps => 1)"),
                ["{batch}"] = await env.Database.ScalarAsync<long>("select agent.enqueue_batch(name => 'contract', prompts => array['How many customers?'])"),
            };
            Assert.Equal("succeeded", await env.WaitForTaskAsync(ids["{done}"]));
            Assert.Equal("failed", await env.WaitForTaskAsync(ids["{failed}"]));
            return ids;
        });
    }

    /// <summary>The document's path template of a request path: ids and names back to {id} and {name}.</summary>
    private static string Template(string path) =>
        System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Replace(path.Split('?')[0], "^/api/(tasks|batches)/[^/]+", "/api/$1/{id}"),
            "^/api/(schedules|agents)/[^/]+", "/api/$1/{name}");

    /// <summary>The body validates against the declared schema (the document's components as JSON Schema 2020-12).</summary>
    private static void AssertFits(JsonNode document, JsonNode schema, string body)
    {
        var defs = document["components"]!["schemas"]!.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var wrapper = $$"""{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {{defs}}, "allOf": [{{schema.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal)}}]}""";
        var built = JsonSchema.FromText(wrapper);
        var result = built.Evaluate(JsonNode.Parse(body), new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"the body does not fit its declared schema: {body}\n" + string.Join("\n",
            (result.Details ?? []).Where(d => d.Errors is not null).Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}")));
    }

    [Fact]
    public async Task GeneratedClient_EnqueuesReadsListsCancelsAndRetries()
    {
        var generated = Compile(await DocumentAsync());
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };
        dynamic client = Activator.CreateInstance(generated.GetType("Generated.TaskApiClient")!, http)!;

        // Enqueue and read: it fails on max_steps, then a retry with more steps resumes from its steps and succeeds.
        dynamic enqueue = Activator.CreateInstance(generated.GetType("Generated.EnqueueTaskRequest")!)!;
        enqueue.Prompt = "How many orders are there?";
        enqueue.MaxSteps = 1;
        dynamic created = await client.EnqueueTaskAsync(enqueue);
        long id = created.Id;
        Assert.Equal("failed", await env.WaitForTaskAsync(id));
        dynamic failed = await client.GetTaskAsync(id);
        Assert.Equal("max_steps", (string)failed.ErrorCode);
        Assert.Equal("sim-1", (string)failed.Model); // the effective model, though the task named none
        Assert.Null((string?)failed.RequestedModel);

        dynamic retry = Activator.CreateInstance(generated.GetType("Generated.RetryTaskRequest")!)!;
        retry.MaxSteps = 10;
        dynamic retried = await client.RetryTaskAsync(id, retry);
        Assert.Equal("queued", (string)retried.Outcome);
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        dynamic succeeded = await client.GetTaskAsync(id);
        Assert.Contains("There are", (string)succeeded.ResultText, StringComparison.Ordinal);
        Assert.Equal(2, (int)succeeded.Attempt);
        var steps = ((IEnumerable<dynamic>)succeeded.Steps).ToList();
        Assert.Equal(1, (int)steps[0].Attempt); // the first run's steps kept
        Assert.Equal("ws", (string)steps[0].Transport);
        Assert.True((int)steps[0].Attempts >= 1);
        Assert.True((int)steps[0].RequestBytes > 0);
        Assert.True((double)steps[0].ModelMs > 0);

        // List and cancel.
        dynamic later = Activator.CreateInstance(generated.GetType("Generated.EnqueueTaskRequest")!)!;
        later.Prompt = "later";
        later.RunAt = TimeProvider.System.GetUtcNow().AddHours(1);
        long laterId = (await client.EnqueueTaskAsync(later)).Id;
        dynamic page = await client.ListTasksAsync("queued", null, 10, null);
        Assert.Contains(laterId, ((IEnumerable<dynamic>)page.Items).Select(t => (long)t.Id));
        dynamic cancelled = await client.CancelTaskAsync(laterId);
        Assert.Equal("cancelled", (string)cancelled.Outcome);

        // A refusal arrives as the generated exception with the problem details.
        dynamic again = Activator.CreateInstance(generated.GetType("Generated.RetryTaskRequest")!)!;
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await client.RetryTaskAsync(id, again));
        Assert.Equal(409, (int)((dynamic)refused).StatusCode);
    }

    /// <summary>A C# client generated from the document by NSwag (System.Text.Json), compiled and loaded here.</summary>
    private static Assembly Compile(string document)
    {
        var openApi = NSwag.OpenApiDocument.FromJsonAsync(document).GetAwaiter().GetResult();
        var settings = new CSharpClientGeneratorSettings
        {
            ClassName = "TaskApiClient",
            UseBaseUrl = false,
            GenerateClientInterfaces = false,
            OperationNameGenerator = new NSwag.CodeGeneration.OperationNameGenerators.SingleClientFromOperationIdOperationNameGenerator(),
        };
        settings.CSharpGeneratorSettings.Namespace = "Generated";
        settings.CSharpGeneratorSettings.JsonLibrary = CSharpJsonLibrary.SystemTextJson;
        // snake_case fields as PascalCase properties (max_steps: MaxSteps), as a .NET team configures its generator.
        settings.CSharpGeneratorSettings.PropertyNameGenerator = new PascalCaseProperties();
        var code = new CSharpClientGenerator(openApi, settings).GenerateFile();
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create("Generated", [CSharpSyntaxTree.ParseText(code)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;
        return new AssemblyLoadContext("generated-client", isCollectible: true).LoadFromStream(image);
    }

    private sealed class PascalCaseProperties : NJsonSchema.CodeGeneration.IPropertyNameGenerator
    {
        public string Generate(NJsonSchema.JsonSchemaProperty property) => string.Concat(property.Name.Split('_', '-')
            .Where(part => part.Length > 0).Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
    }
}
