using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AgentWorker.Jobs.Batches;
using AgentWorker.Jobs.Tasks;
using Microsoft.OpenApi;

namespace AgentWorker.Dashboard;

/// <summary>
/// The task API's OpenAPI 3.1 document at <c>/api/openapi.json</c>, complete enough to generate a client from (NSwag,
/// Kiota, openapi-generator): every body and response has a schema, every status code is declared, errors are problem
/// details, and the main operations carry examples. Also: the API's errors for bad path and query values, and its
/// problem bodies for routes that do not exist.
/// </summary>
internal static partial class TaskApiDocument
{
    public const string Path = "/api/openapi.json";

    /// <summary>The bodies the API reads: they refuse unknown fields.</summary>
    private static readonly HashSet<Type> s_requestBodies =
        [typeof(EnqueueTaskRequest), typeof(RetryTaskRequest), typeof(CreateBatchRequest), typeof(ScheduleBody), typeof(CreateScheduleRequest), typeof(AgentBody)];

    public static IServiceCollection AddTaskApiDocument(this IServiceCollection services)
    {
        // The document describes the JSON the API writes: snake_case, strict numbers.
        services.ConfigureHttpJsonOptions(options => TaskApi.Configure(options.SerializerOptions));
        // A path or query value that does not parse throws, so the API can answer in its own words (below).
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                AddUnauthorized(operation);
                AddExamples(operation, context.Description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName);
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                // Bodies the API reads refuse unknown fields; what it writes may grow fields (and problem details carry
                // extensions such as trace_id), so clients must accept them.
                if (context.JsonPropertyInfo is null && !s_requestBodies.Contains(context.JsonTypeInfo.Type) && schema.AdditionalPropertiesAllowed == false)
                {
                    schema.AdditionalPropertiesAllowed = true;
                    schema.AdditionalProperties = null;
                }
                if (context.JsonTypeInfo.Type == typeof(BatchDetails)
                    && schema.Properties?.TryGetValue("status", out var batchStatus) == true && batchStatus is OpenApiSchema batchStatusSchema)
                {
                    batchStatusSchema.Enum = [.. ((string[])["pending", "running", "finished", "cancelled", "failed"]).Select(s => (JsonNode)JsonValue.Create(s))];
                }
                if ((context.JsonTypeInfo.Type == typeof(TaskDetails) || context.JsonTypeInfo.Type == typeof(TaskSummary))
                    && schema.Properties?.TryGetValue("status", out var status) == true && status is OpenApiSchema statusSchema)
                {
                    statusSchema.Enum = [.. TaskStatuses.All.Select(s => (JsonNode)JsonValue.Create(s))];
                }
                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>
    /// A path or query value that does not parse (<c>/api/tasks/abc</c>, <c>?limit=abc</c>) gets a problem body naming
    /// the parameter and its rule; an unknown route under <c>/api</c> gets a problem body too, not an empty 404.
    /// </summary>
    public static IApplicationBuilder UseTaskApiErrors(this IApplicationBuilder app)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex) when (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) && !context.Response.HasStarted)
            {
                await Results.Problem(title: "Invalid request", detail: DescribeBadRequest(ex, context.Request.Path), statusCode: ex.StatusCode).ExecuteAsync(context);
            }
        });
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase), api => api.UseStatusCodePages(async pages =>
        {
            // The routing refuses a body that is not JSON before the endpoint runs: say what it wants.
            var context = pages.HttpContext;
            var detail = context.Response.StatusCode == StatusCodes.Status415UnsupportedMediaType
                ? $"The body must be JSON sent as 'Content-Type: application/json'; got '{context.Request.ContentType}'."
                : null;
            await Results.Problem(detail: detail, statusCode: context.Response.StatusCode).ExecuteAsync(context);
        }));
        return app;
    }

    private static readonly Dictionary<string, string> s_parameterRules = new(StringComparer.Ordinal)
    {
        ["id"] = "a task id (an integer)",
        ["limit"] = "an integer from 1 to 500",
        ["before"] = "a task id (an integer)",
        ["batch"] = "a batch id (an integer)",
    };

    internal static string DescribeBadRequest(BadHttpRequestException exception, PathString path)
    {
        if (BindFailure().Match(exception.Message) is { Success: true } failure)
        {
            var name = failure.Groups["name"].Value;
            var rule = name == "id" && path.StartsWithSegments("/api/batches", StringComparison.OrdinalIgnoreCase)
                ? "a batch id (an integer)"
                : s_parameterRules.GetValueOrDefault(name, "a valid value");
            return $"\"{name}\" must be {rule}; got \"{failure.Groups["value"].Value}\".";
        }
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return "The body is larger than the server accepts (30,000,000 bytes).";
        }
        return "The request could not be read: check its path, query and body against /api/openapi.json.";
    }

    [GeneratedRegex("""Failed to bind parameter "\S+ (?<name>\w+)" from "(?<value>.*)"\.""")]
    private static partial Regex BindFailure();

    private static void Describe(OpenApiDocument document)
    {
        var version = typeof(TaskApiDocument).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";
        document.Info = new OpenApiInfo
        {
            Title = "Agent worker task API",
            Version = version.Split('+')[0],
            Description = """
                Enqueue agent tasks, follow them and read their results, usage and steps; run batches of tasks (from
                prompts or a template over a read-only query) and schedule them on a cron; define named agents (instructions,
                model, tools, limits) that tasks, batches and schedules name. The same rules as the SQL API (agent.enqueue,
                agent.cancel, agent.retry, agent.enqueue_batch, agent.upsert_schedule, agent.upsert_agent ...). JSON in snake_case; unknown fields, duplicate fields and
                numbers in strings are refused. Errors are problem details (RFC 9457) naming the field and its rule.
                On loopback without Api:Key no key is needed; otherwise send 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.
                """,
            License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            ["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "The dashboard's Api:Key as a bearer token." },
            ["apiKey"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key", Description = "The dashboard's Api:Key." },
        };
        document.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] },
            // No key at all on loopback without Api:Key.
            new OpenApiSecurityRequirement(),
        ];
    }

    private static void AddUnauthorized(OpenApiOperation operation)
    {
        operation.Responses ??= new OpenApiResponses();
        if (operation.Responses.ContainsKey("401"))
        {
            return;
        }
        var problem = operation.Responses.Values.SelectMany(r => r.Content?.Values ?? []).Select(c => c.Schema)
            .FirstOrDefault(s => s is OpenApiSchemaReference reference && reference.Reference.Id == "ProblemDetails");
        operation.Responses["401"] = new OpenApiResponse
        {
            Description = "The API key (or, when the dashboard has sign-in, a session) is missing or wrong; an open loopback dashboard needs neither.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = problem },
            },
        };
    }

    private static void AddExamples(OpenApiOperation operation, string? name)
    {
        switch (name)
        {
            case "EnqueueTask":
                SetRequestExample(operation, new JsonObject
                {
                    ["prompt"] = "How many orders were placed this week?",
                    ["max_steps"] = 10,
                    ["idempotency_key"] = "weekly-orders-2026-48",
                });
                SetResponseExample(operation, "201", new JsonObject { ["id"] = 42, ["url"] = "/api/tasks/42" });
                SetResponseExample(operation, "400", Problem("Invalid task", "\"max_steps\" must be an integer from 1 to 200.", 400));
                SetResponseExample(operation, "409", Problem("Idempotency key already used",
                    "agent.enqueue: idempotency_key \"weekly-orders-2026-48\" was already used for task 42 with different content (prompt)", 409));
                break;
            case "CancelTask":
                SetResponseExample(operation, "200", new JsonObject { ["id"] = 42, ["outcome"] = "cancelled", ["status"] = "cancelled" });
                SetResponseExample(operation, "202", new JsonObject { ["id"] = 42, ["outcome"] = "stop_requested", ["status"] = "running" });
                break;
            case "RetryTask":
                SetRequestExample(operation, new JsonObject { ["max_steps"] = 40 });
                SetResponseExample(operation, "202", new JsonObject { ["id"] = 42, ["outcome"] = "queued", ["url"] = "/api/tasks/42" });
                break;
            case "PutAgent":
                SetRequestExample(operation, new JsonObject
                {
                    ["instructions"] = "You answer support questions from the order history. Be brief.",
                    ["model"] = "gpt-5-mini",
                    ["tools"] = new JsonArray("query", "describe_table", "crm__*"),
                    ["max_steps"] = 12,
                    ["deadline_after"] = "00:10:00",
                });
                break;
            case "GetTask":
                SetResponseExample(operation, "404", Problem("Task not found", "There is no task 42.", 404));
                break;
        }
    }

    private static JsonObject Problem(string title, string detail, int status) =>
        new() { ["type"] = "https://tools.ietf.org/html/rfc9110", ["title"] = title, ["status"] = status, ["detail"] = detail };

    private static void SetRequestExample(OpenApiOperation operation, JsonNode example)
    {
        if (operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true)
        {
            media.Example = example;
        }
    }

    private static void SetResponseExample(OpenApiOperation operation, string status, JsonNode example)
    {
        if (operation.Responses?.TryGetValue(status, out var response) == true && response.Content is { } content)
        {
            foreach (var media in content.Values)
            {
                media.Example = example;
            }
        }
    }
}
