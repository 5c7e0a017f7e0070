using System.Diagnostics;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Telemetry;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// Runs one task: model turn, tool calls, model turn ... over one leased socket, chaining turns with
/// <c>previous_response_id</c> and <c>store:false</c>. Bounded by max steps, the deadline and consecutive tool errors;
/// each step is stored as it completes.
/// </summary>
internal sealed class AgentLoop(
    ModelClient model,
    ToolRegistry tools,
    IOptions<LlmOptions> llmOptions,
    IOptions<AgentOptions> agentOptions,
    AgentMetrics metrics,
    TimeProvider time,
    TargetDatabase? target = null)
{
    private readonly ModelClient _model = model;
    private readonly ToolRegistry _tools = tools;
    private readonly LlmOptions _llm = llmOptions.Value;
    private readonly AgentOptions _agent = agentOptions.Value;
    private readonly TimeProvider _time = time;
    private readonly AgentMetrics _metrics = metrics;
    private readonly string? _targetDatabase = target?.DatabaseName;
    /// <summary>Runs (or resumes, from <paramref name="checkpoint"/>: the task's stored steps) one task.</summary>
    public async Task<TaskOutcome> RunAsync(
        AgentTask task, IReadOnlyList<CheckpointStep> checkpoint, IStepSink steps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(steps);
        // The deadline is the run's: it cancels this token (Runs/TaskRunner).
        return await new Run(this, task, steps).ExecuteAsync(checkpoint, cancellationToken);
    }

    /// <summary>The state of one run: transcript, step counter, usage.</summary>
    private sealed class Run(AgentLoop loop, AgentTask task, IStepSink sink)
    {
        private readonly Transcript _transcript = new();
        private int _seq = task.LastSeq;

        public int Steps { get; private set; }

        /// <summary>The model the task runs on: its own, else the worker's default.</summary>
        private string? EffectiveModel => task.Model ?? loop._llm.Model;

        public async Task<TaskOutcome> ExecuteAsync(IReadOnlyList<CheckpointStep> checkpoint, CancellationToken cancellationToken)
        {
            _transcript.Add(Transcript.UserMessage(task.Prompt));
            var (turnsDone, calls, answer) = Restore(checkpoint);
            if (answer is not null)
            {
                // The last run stored its final turn but stopped before it could record the outcome.
                return TaskOutcome.Succeeded(answer, Steps);
            }
            var consecutiveToolErrors = 0;
            await using var session = loop._model.OpenSession(task.Id);
            for (var turn = turnsDone + 1; ; turn++)
            {
                foreach (var call in calls)
                {
                    var failed = await ToolCallAsync(call, cancellationToken);
                    consecutiveToolErrors = failed ? consecutiveToolErrors + 1 : 0;
                    if (consecutiveToolErrors >= loop._agent.MaxConsecutiveToolErrors)
                    {
                        return TaskOutcome.Failed(ErrorCodes.ToolErrors,
                            $"{consecutiveToolErrors} tool calls in a row failed; the last: {Truncate(_lastToolError, 500)}", Steps);
                    }
                }
                if (turn > task.MaxSteps)
                {
                    return TaskOutcome.Failed(ErrorCodes.MaxSteps,
                        $"The model was still calling tools after {task.MaxSteps} turns (max_steps).", Steps);
                }
                var modelTurn = await ModelTurnAsync(session, cancellationToken);
                calls = FunctionCalls(modelTurn.Output);
                if (calls.Count == 0)
                {
                    return TaskOutcome.Succeeded(AnswerText(modelTurn.Output), Steps);
                }
            }
        }

        /// <summary>
        /// Rebuilds the transcript from stored steps. Returns the model turns already done, the calls of the last turn
        /// that have no stored output yet (run before the next turn), or the answer when the last turn called no tool.
        /// Completed model turns are never sent again.
        /// </summary>
        private (int TurnsDone, List<JsonObject> PendingCalls, string? Answer) Restore(IReadOnlyList<CheckpointStep> checkpoint)
        {
            var turns = 0;
            List<JsonObject>? lastOutput = null;
            var answered = new HashSet<string>(StringComparer.Ordinal);
            foreach (var step in checkpoint)
            {
                var items = (JsonNode.Parse(step.Items) as JsonArray ?? []).OfType<JsonObject>().Select(i => (JsonObject)i.DeepClone()).ToList();
                if (step.Kind == StepKinds.Model)
                {
                    turns++;
                    lastOutput = items;
                    _transcript.AddResponse(items);
                    continue;
                }
                foreach (var item in items)
                {
                    _transcript.Add(item);
                    answered.Add(Text(item["call_id"]) ?? "");
                }
            }
            if (lastOutput is null)
            {
                return (0, [], null);
            }
            var calls = FunctionCalls(lastOutput);
            return calls.Count == 0
                ? (turns, [], AnswerText(lastOutput))
                : (turns, calls.Where(c => !answered.Contains(Text(c["call_id"]) ?? "")).ToList(), null);
        }

        private static List<JsonObject> FunctionCalls(IReadOnlyList<JsonObject> output) =>
            output.Where(i => EventJson.String(i["type"]) == "function_call").ToList();

        private string? _lastToolError;

        /// <summary>One model turn through the session (which handles recovery), stored as a step.</summary>
        private async Task<ModelTurn> ModelTurnAsync(ModelSession session, CancellationToken cancellationToken)
        {
            var startedAt = loop._time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            var model = EffectiveModel ?? "";
            using var activity = AgentTelemetry.StartModelTurn(model, loop._llm.BaseUrl);
            TurnRecord record;
            try
            {
                record = await session.RunTurnAsync(CreateEvent, cancellationToken);
            }
            catch (Exception ex)
            {
                AgentTelemetry.Failed(activity, ex);
                loop._metrics.ModelTurnFailed(model, AgentTelemetry.ErrorType(ex), Stopwatch.GetElapsedTime(started).TotalSeconds);
                throw;
            }
            AgentTelemetry.TurnDone(activity, record);
            loop._metrics.ModelTurn(model, record, Stopwatch.GetElapsedTime(started).TotalSeconds);
            var modelTurn = record.Turn;
            _transcript.AddResponse(modelTurn.Output);
            var items = new JsonArray(modelTurn.Output.Select(o => (JsonNode)o.DeepClone()).ToArray()).ToJsonString();
            await SaveStepAsync(NewStep(StepKinds.Model, startedAt, started, items) with
            {
                TtftMs = modelTurn.TimeToFirstOutputMs,
                Transport = record.Transport,
                SocketId = record.SocketId,
                SocketReused = record.SocketReused,
                Chained = record.Chained,
                ResponseId = modelTurn.ResponseId,
                InputTokens = modelTurn.Usage.InputTokens,
                CachedTokens = modelTurn.Usage.CachedTokens,
                OutputTokens = modelTurn.Usage.OutputTokens,
                ReasoningTokens = modelTurn.Usage.ReasoningTokens,
                Attempts = record.Attempts,
                Recovery = record.Recovery,
                RequestBytes = modelTurn.RequestBytes,
                ModelMs = modelTurn.TransportMs,
            }, cancellationToken);
            return modelTurn;
        }

        /// <summary>The turn's request: the full transcript, or only the new items when the session chains it.</summary>
        /// <remarks>
        /// <c>store:false</c> keeps nothing on the server beyond the socket's own cache, so a reasoning model's reasoning
        /// items come back with their encrypted content (<c>include</c>): the transcript replays them on a full resend.
        /// </remarks>
        private JsonObject CreateEvent(bool chained)
        {
            var create = new JsonObject
            {
                ["type"] = "response.create",
                ["model"] = EffectiveModel,
                ["store"] = false,
                ["include"] = new JsonArray("reasoning.encrypted_content"),
                ["instructions"] = task.Instructions ?? loop._agent.DefaultInstructions,
                ["tools"] = loop._tools.Definitions.DeepClone(),
                ["tool_choice"] = "auto",
                ["parallel_tool_calls"] = true,
                ["input"] = _transcript.Input(chained),
            };
            var (effort, maxOutput) = loop._llm.SettingsFor(task.Model);
            if (effort is not null)
            {
                create["reasoning"] = new JsonObject { ["effort"] = effort };
            }
            if (maxOutput is not null)
            {
                create["max_output_tokens"] = maxOutput;
            }
            return create;
        }

        /// <summary>Runs one function call; returns whether it failed. Failures go back to the model as the call's output.</summary>
        private async Task<bool> ToolCallAsync(JsonObject call, CancellationToken cancellationToken)
        {
            var name = Text(call["name"]) ?? "";
            var callId = Text(call["call_id"]) ?? "";
            var arguments = Text(call["arguments"]) ?? "{}";
            var startedAt = loop._time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            // A name the model made up is not a tag value: it would be a new time series per invention.
            var known = loop._tools.Knows(name) ? name : "unknown";
            using var activity = AgentTelemetry.StartToolCall(known, callId, loop._targetDatabase);
            // A name sent as half a surrogate pair reaches the loop as that escape's text (EventJson): no tool has such a
            // name, and saying why helps the model more than "unknown tool".
            var result = EventJson.HoldsUnpairedSurrogateEscape(name)
                ? ToolResult.Error($"The tool name \"{name}\" is not valid text: it holds half a UTF-16 surrogate pair (shown as its escape). Call one of the tools offered.")
                : await loop._tools.InvokeAsync(name, arguments, cancellationToken);
            loop._metrics.ToolCall(known, result.IsError, Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (activity is not null)
            {
                activity.SetTag("db.response.returned_rows", result.RowCount);
                activity.SetTag("agent.tool.truncated", result.Truncated);
                if (result.IsError)
                {
                    AgentTelemetry.Failed(activity, "tool_error", Truncate(result.Output, 500));
                }
            }
            var text = result.IsError ? "ERROR: " + result.Output : result.Output;
            var max = loop._agent.MaxToolOutputChars;
            if (text.Length > max)
            {
                text = StorableText.Cut(text, max) + $"...(cut: the tool returned {text.Length} characters, the limit is {max})";
            }
            var output = Transcript.FunctionCallOutput(callId, text);
            _transcript.Add(output);
            if (result.IsError)
            {
                _lastToolError = result.Output;
            }
            await SaveStepAsync(NewStep(StepKinds.Tool, startedAt, started, new JsonArray(output.DeepClone()).ToJsonString()) with
            {
                ToolName = name,
                CallId = callId,
                Arguments = arguments,
                RowCount = result.RowCount,
                Truncated = result.Truncated,
                Error = result.IsError ? result.Output : null,
            }, cancellationToken);
            return result.IsError;
        }

        /// <summary>The fields every step has; the next sequence number is taken here.</summary>
        private StepRecord NewStep(string kind, DateTimeOffset startedAt, long started, string items) => new()
        {
            TaskId = task.Id,
            Attempt = task.Attempt,
            Seq = ++_seq,
            Kind = kind,
            StartedAt = startedAt,
            FinishedAt = loop._time.GetUtcNow(),
            DurationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            Items = items,
        };

        private async Task SaveStepAsync(StepRecord step, CancellationToken cancellationToken)
        {
            await sink.SaveAsync(step, cancellationToken);
            Steps++;
        }

        private static string AnswerText(IReadOnlyList<JsonObject> output) => string.Join("\n", output
            .Where(i => EventJson.String(i["type"]) == "message")
            .SelectMany(i => i["content"] as JsonArray ?? [])
            .Where(c => EventJson.String(c?["type"]) == "output_text")
            .Select(c => EventJson.String(c?["text"]) ?? ""));

        /// <summary>
        /// A field of a model's function call as text, whatever the model put there: a string as is, any other JSON as
        /// its JSON text (the tool then refuses it with a clear error).
        /// </summary>
        private static string? Text(JsonNode? node) => EventJson.String(node) ?? node?.ToJsonString();

        private static string? Truncate(string? text, int max) =>
            text is null || text.Length <= max ? text : StorableText.Cut(text, max) + "...";
    }

}
