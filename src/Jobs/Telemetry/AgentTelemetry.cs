using System.Diagnostics;
using AgentWorker.Jobs.Llm;

namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// What the worker tells a tracing and metrics stack, following the OpenTelemetry GenAI semantic conventions where they
/// name a thing (<c>gen_ai.*</c>, <c>db.*</c>, <c>error.type</c>) and <c>agent.*</c> for the rest. Traces: a span per
/// enqueue (<see cref="TasksSourceName"/>), per task run (<see cref="RunsSourceName"/>), per model turn (<see cref="Llm"/>)
/// and per tool call (<see cref="Tools"/>); a run links to the enqueue that made its task. Metrics: <see cref="AgentMetrics"/>.
/// Without a listener (no OTLP endpoint, no dotnet-trace) a span costs a null check.
/// </summary>
public static class AgentTelemetry
{
    // The features' own sources carry these names (Tasks/TaskTelemetry, Runs/RunTelemetry); a test keeps them equal.
    public const string TasksSourceName = "AgentWorker.Tasks";
    public const string RunsSourceName = "AgentWorker.Runs";
    public const string LlmSourceName = "AgentWorker.Llm";
    public const string ToolsSourceName = "AgentWorker.Tools";

    /// <summary>Every activity source and meter of the worker, for <c>AddSource</c> / <c>AddMeter</c>.</summary>
    public static readonly string[] SourceNames = [TasksSourceName, RunsSourceName, LlmSourceName, ToolsSourceName];

    public static readonly string[] MeterNames = [AgentMetrics.RunsMeterName, SocketPoolMetrics.MeterName];

    internal static readonly ActivitySource Llm = new(LlmSourceName);
    internal static readonly ActivitySource Tools = new(ToolsSourceName);

    /// <summary>The GenAI provider of every model the worker talks to: OpenAI's Responses API or one compatible with it.</summary>
    internal const string Provider = "openai";

    /// <summary>The span of one model turn (<c>chat {model}</c>, a client span) with the GenAI request attributes.</summary>
    internal static Activity? StartModelTurn(string model, Uri? endpoint)
    {
        var activity = Llm.StartActivity("chat " + model, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.provider.name", Provider);
            activity.SetTag("gen_ai.system", Provider);
            activity.SetTag("gen_ai.request.model", model);
            if (endpoint is not null)
            {
                activity.SetTag("server.address", endpoint.Host);
                activity.SetTag("server.port", endpoint.Port);
            }
        }
        return activity;
    }

    /// <summary>What the turn answered and how it travelled.</summary>
    internal static void TurnDone(Activity? activity, TurnRecord record)
    {
        if (activity is null)
        {
            return;
        }
        var turn = record.Turn;
        activity.SetTag("gen_ai.response.id", turn.ResponseId);
        activity.SetTag("gen_ai.response.model", turn.ResponseModel);
        activity.SetTag("gen_ai.usage.input_tokens", turn.Usage.InputTokens);
        activity.SetTag("gen_ai.usage.output_tokens", turn.Usage.OutputTokens);
        // Not (yet) named by the GenAI conventions: ours.
        activity.SetTag("agent.usage.cached_input_tokens", turn.Usage.CachedTokens);
        activity.SetTag("agent.usage.reasoning_tokens", turn.Usage.ReasoningTokens);
        activity.SetTag("agent.model.transport", record.Transport);
        activity.SetTag("agent.model.socket_reused", record.SocketReused);
        activity.SetTag("agent.model.chained", record.Chained);
        activity.SetTag("agent.model.attempts", record.Attempts);
        activity.SetTag("agent.model.recovery", record.Recovery);
        activity.SetTag("agent.model.time_to_first_event_ms", turn.TimeToFirstOutputMs);
        activity.SetTag("agent.model.request_bytes", turn.RequestBytes);
    }

    /// <summary>The span of one tool call (<c>execute_tool {name}</c>) with the database it reads.</summary>
    internal static Activity? StartToolCall(string name, string callId, string? database)
    {
        var activity = Tools.StartActivity("execute_tool " + name, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", name);
            activity.SetTag("gen_ai.tool.type", "function");
            activity.SetTag("gen_ai.tool.call.id", callId);
            activity.SetTag("db.system.name", "postgresql");
            activity.SetTag("db.namespace", database);
        }
        return activity;
    }

    /// <summary>Marks a span failed with a short error type (OpenTelemetry's <c>error.type</c>) and a description.</summary>
    internal static void Failed(Activity? activity, string errorType, string? description)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("error.type", errorType);
        activity.SetStatus(ActivityStatusCode.Error, description);
    }

    /// <summary>The failure of an exception: its type as <c>error.type</c> (a model failure by its kind).</summary>
    internal static void Failed(Activity? activity, Exception exception) => Failed(activity, ErrorType(exception), exception.Message);

    /// <summary>OpenTelemetry's <c>error.type</c> of an exception: a model failure by its kind, else the exception's full type name.</summary>
    internal static string ErrorType(Exception exception) =>
        exception is ModelException model ? model.Kind.ToString() : exception.GetType().FullName ?? "exception";


}
