using AgentWorker.Tests.Infrastructure;
using Dapper;

namespace AgentWorker.Tests.Telemetry;

/// <summary>
/// A real worker process with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set exports its traces and metrics to an OTLP/HTTP
/// collector: task &gt; turn &gt; tool spans with the GenAI attributes, Npgsql's spans, the link to a SQL enqueue's
/// trace, and the worker's and Npgsql's metrics.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class OtlpExportTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.
    private SimulatorHost _sim = null!; // Set in InitializeAsync.
    private OtlpCollector _collector = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _sim = await SimulatorHost.StartAsync();
        _collector = await OtlpCollector.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _collector.DisposeAsync();
        await _sim.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task WorkerWithAnOtlpEndpoint_ExportsTheRunsSpansAndMetrics()
    {
        using var worker = await WorkerProcess.StartAsync(_db.ConnectionString, _db.ReaderConnectionString, _sim,
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collector.Endpoint.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            },
            "--Logging:LogLevel:Default=Warning");

        // An enqueue in SQL joins a trace by setting agent.traceparent for its transaction.
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const string spanId = "00f067aa0ba902b7";
        long id;
        await using (var connection = _db.Open())
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await connection.ExecuteAsync($"set local agent.traceparent = '00-{traceId}-{spanId}-01'", transaction: transaction);
            id = await connection.ExecuteScalarAsync<long>("select agent.enqueue(prompt => 'How many customers are there?')", transaction: transaction);
            await transaction.CommitAsync(Ct);
        }
        await _db.WaitUntilAsync("select status = 'succeeded' from agent.tasks where id = @id", new { id }, TimeSpan.FromSeconds(60));

        var taskId = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        OtlpSpan? run = null;
        for (var i = 0; i < 200 && run is null; i++)
        {
            run = _collector.Spans.FirstOrDefault(s => s.Name == "invoke_agent agent-task" && s.Attributes.GetValueOrDefault("agent.task.id") == taskId);
            await Task.Delay(50, Ct);
        }
        Assert.NotNull(run);
        Assert.Equal("agent-worker", run.Service);
        Assert.Equal("AgentWorker.Runs", run.Scope);
        Assert.Equal((traceId, spanId), Assert.Single(run.Links));
        Assert.Equal("succeeded", run.Attributes["agent.task.status"]);

        // Children end before their parent: they were exported with it or before.
        var children = _collector.Spans.Where(s => s.TraceId == run.TraceId && s.ParentSpanId == run.SpanId).ToList();
        var turn = children.First(s => s.Scope == "AgentWorker.Llm");
        Assert.Equal("chat sim-1", turn.Name);
        Assert.Equal("chat", turn.Attributes["gen_ai.operation.name"]);
        Assert.Equal("sim-1", turn.Attributes["gen_ai.request.model"]);
        Assert.True(long.Parse(turn.Attributes["gen_ai.usage.input_tokens"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        var tool = children.First(s => s.Scope == "AgentWorker.Tools" && s.Name == "execute_tool query");
        Assert.Equal("postgresql", tool.Attributes["db.system.name"]);
        Assert.Contains(_collector.Spans, s => s.Scope == "Npgsql" && s.ParentSpanId == tool.SpanId);
        // The claim loop's and Hangfire's polling are no traces of their own.
        Assert.DoesNotContain(_collector.Spans, s => s.Scope == "Npgsql" && s.ParentSpanId.Length == 0);

        for (var i = 0; i < 200 && !HasMetrics(); i++)
        {
            await Task.Delay(50, Ct);
        }
        Assert.True(HasMetrics(), "metrics seen: " + string.Join(", ", _collector.Metrics.SelectMany(m => m.Value.Keys.Select(k => m.Key + "/" + k))));
    }

    private bool HasMetrics() =>
        _collector.Metrics.TryGetValue("AgentWorker.Runs", out var runs) && runs.ContainsKey("agent.tasks.finished") && runs.ContainsKey("agent.step.duration")
        && _collector.Metrics.TryGetValue("AgentWorker.Llm", out var llm) && llm.ContainsKey("gen_ai.client.token.usage") && llm.ContainsKey("agent.sockets.open")
        && _collector.Metrics.TryGetValue("Npgsql", out var npgsql) && !npgsql.IsEmpty;
}

/// <summary>
/// The dashboard with an OTLP endpoint: a REST enqueue is a server span with the enqueue span under it, and the task
/// stores that trace, so its run links back to the HTTP request.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class DashboardOtlpExportTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RestEnqueue_IsTraced_AndTheTaskCarriesTheRequestsTrace()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var web = AgentWorker.Dashboard.DashboardApp.Create(
        [
            $"--ConnectionStrings:App={env.Database.ConnectionString}", "--urls", "http://127.0.0.1:0", "--Llm:Model=sim-1",
            "--Logging:LogLevel:Default=Warning",
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={collector.Endpoint.ToString().TrimEnd('/')}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--OTEL_BSP_SCHEDULE_DELAY=200",
        ]);
        await web.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = new Uri(web.Urls.First()) };

        using var response = await http.PostAsync("/api/tasks",
            new StringContent("""{"prompt":"How many products are there? (REST, traced)"}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        response.EnsureSuccessStatusCode();
        var id = (long)System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["id"]!;
        var taskId = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        OtlpSpan? enqueue = null;
        for (var i = 0; i < 200 && enqueue is null; i++)
        {
            enqueue = collector.Spans.FirstOrDefault(s => s.Name == "agent.enqueue" && s.Attributes.GetValueOrDefault("agent.task.id") == taskId);
            await Task.Delay(50, Ct);
        }
        Assert.NotNull(enqueue);
        Assert.Equal("agent-dashboard", enqueue.Service);
        var server = Assert.Single(collector.Spans, s => s.SpanId == enqueue.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", server.Scope);
        Assert.Equal("POST", server.Attributes["http.request.method"]);
        Assert.Equal($"00-{enqueue.TraceId}-{enqueue.SpanId}-01",
            await env.Database.ScalarAsync<string>("select trace_parent from agent.tasks where id = @id", new { id }));
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
    }
}
