using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Telemetry;
using AgentWorker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentWorker.Tests.Telemetry;

/// <summary>
/// One real run (simulator, query tool, PostgreSQL) seen through an <see cref="ActivityListener"/> and a
/// <see cref="MeterListener"/> in the process: enqueue &gt; (link) task &gt; turn and tool spans with the GenAI and db
/// attributes, Npgsql's spans under the tool call, and the metrics moving.
/// </summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class TracesAndMetricsTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OneRun_GivesEnqueueTaskTurnAndToolSpans_AndMovesTheMetrics()
    {
        var spans = new ConcurrentBag<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => AgentTelemetry.SourceNames.Contains(source.Name) || source.Name is "Npgsql" or "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(activities);
        var measured = new ConcurrentBag<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (AgentTelemetry.MeterNames.Contains(instrument.Meter.Name))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((i, value, tags, _) => measured.Add((i.Name, value, Tags(tags))));
        meters.SetMeasurementEventCallback<double>((i, value, tags, _) => measured.Add((i.Name, value, Tags(tags))));
        meters.Start();

        using var test = new ActivitySource("test");
        long id;
        string enqueueId;
        using (var request = test.StartActivity("a request that enqueues"))
        {
            id = await env.WorkerServices.GetRequiredService<ITaskClient>().EnqueueAsync(
                new EnqueueRequest { Prompt = "How many orders are there? (traced)" }, Ct);
            enqueueId = spans.Single(s => s.OperationName == "agent.enqueue" && Equals(s.GetTagItem("agent.task.id"), id)).Id!;
            Assert.Equal(request!.SpanId, spans.Single(s => s.Id == enqueueId).ParentSpanId);
        }
        Assert.Equal("succeeded", await env.WaitForTaskAsync(id));
        // The task stored the enqueue's context.
        Assert.Equal(enqueueId, await env.Database.ScalarAsync<string>("select trace_parent from agent.tasks where id = @id", new { id }));
        var run = await EventuallyAsync(() => spans.SingleOrDefault(s => s.OperationName == "invoke_agent agent-task" && Equals(s.GetTagItem("agent.task.id"), id)));

        // The run is a trace of its own, linked to the enqueue.
        Assert.Equal(default, run.ParentSpanId);
        var link = Assert.Single(run.Links);
        Assert.Equal(enqueueId, $"00-{link.Context.TraceId}-{link.Context.SpanId}-01");
        Assert.Equal("succeeded", run.GetTagItem("agent.task.status"));
        Assert.Equal("sim-1", run.GetTagItem("gen_ai.request.model"));

        var children = spans.Where(s => s.ParentSpanId == run.SpanId && s.TraceId == run.TraceId).ToList();
        var turns = children.Where(s => s.Source.Name == AgentTelemetry.LlmSourceName).ToList();
        Assert.Equal(4, turns.Count);
        Assert.All(turns, turn =>
        {
            Assert.Equal("chat sim-1", turn.DisplayName);
            Assert.Equal(ActivityKind.Client, turn.Kind);
            Assert.Equal("chat", turn.GetTagItem("gen_ai.operation.name"));
            Assert.Equal("openai", turn.GetTagItem("gen_ai.provider.name"));
            Assert.Equal("sim-1", turn.GetTagItem("gen_ai.request.model"));
            Assert.False(string.IsNullOrEmpty(turn.GetTagItem("gen_ai.response.id") as string));
            Assert.True((long)turn.GetTagItem("gen_ai.usage.input_tokens")! > 0);
            Assert.True((long)turn.GetTagItem("gen_ai.usage.output_tokens")! > 0);
            Assert.Equal("ws", turn.GetTagItem("agent.model.transport"));
        });
        var tools = children.Where(s => s.Source.Name == AgentTelemetry.ToolsSourceName).ToList();
        Assert.Equal(3, tools.Count);
        var tool = tools.First(t => Equals(t.GetTagItem("gen_ai.tool.name"), "query"));
        Assert.Equal("execute_tool query", tool.DisplayName);
        Assert.Equal("execute_tool", tool.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("postgresql", tool.GetTagItem("db.system.name"));
        Assert.Equal(env.Database.Name, tool.GetTagItem("db.namespace"));
        Assert.NotNull(tool.GetTagItem("db.response.returned_rows"));
        // Npgsql's own span of the model's SQL sits under the tool call.
        Assert.Contains(spans, s => s.Source.Name == "Npgsql" && s.ParentSpanId == tool.SpanId);

        await EventuallyAsync(() => measured.Any(m => m.Name == "agent.tasks.finished" && Equals(m.Tags["agent.task.status"], "succeeded")) ? true : (bool?)null);
        Assert.Contains(measured, m => m.Name == "gen_ai.client.token.usage" && Equals(m.Tags["gen_ai.token.type"], "input") && m.Value > 0);
        Assert.Contains(measured, m => m.Name == "gen_ai.client.operation.duration" && Equals(m.Tags["gen_ai.request.model"], "sim-1"));
        Assert.Contains(measured, m => m.Name == "agent.step.duration" && Equals(m.Tags["agent.step.kind"], "tool") && Equals(m.Tags["gen_ai.tool.name"], "query"));
        Assert.Contains(measured, m => m.Name == "agent.model.time_to_first_event" && m.Value > 0);
        Assert.Contains(measured, m => m.Name == "agent.task.queue_wait");

        // No OTLP endpoint is configured here: the SDK is not even set up, so nothing is exported.
        Assert.Null(env.WorkerServices.GetService<OpenTelemetry.Trace.TracerProvider>());
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var all = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            all[tag.Key] = tag.Value;
        }
        return all;
    }

    private static async Task<T> EventuallyAsync<T>(Func<T?> probe)
    {
        for (var i = 0; i < 200; i++)
        {
            if (probe() is { } found)
            {
                return found;
            }
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException("Not seen within 10 s.");
    }
}
