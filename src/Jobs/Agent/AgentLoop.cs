using System.Diagnostics;
using System.Text.Json;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// Runs one task: model turn, tool calls, model turn ... in one conversation on the model port (which chains the turns
/// when its implementation can). Bounded by max steps, the deadline and consecutive tool errors; each step is stored as
/// it completes.
/// </summary>
internal sealed class AgentLoop(
    IModelPort model,
    IToolRegistry tools,
    IOptions<LlmOptions> llmOptions,
    IOptions<AgentOptions> agentOptions,
    TimeProvider time)
{
    private readonly IModelPort _model = model;
    private readonly IToolRegistry _tools = tools;
    private readonly LlmOptions _llm = llmOptions.Value;
    private readonly AgentOptions _agent = agentOptions.Value;
    private readonly TimeProvider _time = time;

    /// <summary>
    /// The tools every turn offers, made once: each schema cut to the strict subset (<see cref="StrictSchema"/>), with
    /// <c>strict: true</c>; the worker's own argument checks enforce what the subset cannot say.
    /// </summary>
    internal ToolSet Tools { get; } = new(tools.Tools.Select(t => new ToolDefinition(
        t.Name, t.Description, JsonSerializer.SerializeToElement(StrictSchema.ForWire(t.Parameters)), Strict: true)));

    /// <summary>Runs (or resumes, from <paramref name="checkpoint"/>: the task's stored steps) one task.</summary>
    public async Task<TaskOutcome> RunAsync(
        AgentTask task, IReadOnlyList<CheckpointStep> checkpoint, IStepSink steps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(steps);
        // The deadline is the run's: it cancels this token (Runs/TaskRunner).
        return await new Run(this, task, steps).ExecuteAsync(checkpoint, cancellationToken);
    }

    /// <summary>The state of one run: the conversation, the step counter.</summary>
    private sealed class Run(AgentLoop loop, AgentTask task, IStepSink sink)
    {
        /// <summary>The run's own copy of the conversation, whole: the port resends it in full whenever it must.</summary>
        private readonly List<ConversationItem> _items = [];
        private int _seq = task.LastSeq;
        private string? _lastToolError;

        public int Steps { get; private set; }

        /// <summary>The model the task runs on: its own, else the worker's default.</summary>
        private string EffectiveModel => task.Model ?? loop._llm.Model ?? "";

        public async Task<TaskOutcome> ExecuteAsync(IReadOnlyList<CheckpointStep> checkpoint, CancellationToken cancellationToken)
        {
            _items.Add(ConversationItem.UserMessage(task.Prompt));
            var (turnsDone, calls, answer) = Restore(checkpoint);
            if (answer is not null)
            {
                // The last run stored its final turn but stopped before it could record the outcome.
                return TaskOutcome.Succeeded(answer, Steps);
            }
            var (effort, maxOutput) = loop._llm.SettingsFor(task.Model);
            var request = new TurnRequest
            {
                Model = EffectiveModel,
                Instructions = task.Instructions ?? loop._agent.DefaultInstructions,
                Tools = loop.Tools,
                Items = _items,
                ReasoningEffort = effort,
                MaxOutputTokens = maxOutput,
            };
            var consecutiveToolErrors = 0;
            await using var conversation = loop._model.OpenConversation(request.Model, task.Id);
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
                var output = await ModelTurnAsync(conversation, request, cancellationToken);
                calls = FunctionCalls(output);
                if (calls.Count == 0)
                {
                    return TaskOutcome.Succeeded(AnswerText(output), Steps);
                }
            }
        }

        /// <summary>
        /// Rebuilds the conversation from stored steps. Returns the model turns already done, the calls of the last turn
        /// that have no stored output yet (run before the next turn), or the answer when the last turn called no tool.
        /// Completed model turns are never sent again.
        /// </summary>
        private (int TurnsDone, List<ConversationItem> PendingCalls, string? Answer) Restore(IReadOnlyList<CheckpointStep> checkpoint)
        {
            var turns = 0;
            List<ConversationItem>? lastOutput = null;
            var answered = new HashSet<string>(StringComparer.Ordinal);
            foreach (var step in checkpoint)
            {
                var items = ConversationItem.Load(step.Items);
                _items.AddRange(items);
                if (step.Kind == StepKinds.Model)
                {
                    turns++;
                    lastOutput = items;
                    continue;
                }
                foreach (var item in items)
                {
                    answered.Add(item.CallId ?? "");
                }
            }
            if (lastOutput is null)
            {
                return (0, [], null);
            }
            var calls = FunctionCalls(lastOutput);
            return calls.Count == 0
                ? (turns, [], AnswerText(lastOutput))
                : (turns, calls.Where(c => !answered.Contains(c.CallId ?? "")).ToList(), null);
        }

        private static List<ConversationItem> FunctionCalls(IReadOnlyList<ConversationItem> output) =>
            output.Where(i => i.Kind == ConversationItemKind.FunctionCall).ToList();

        /// <summary>One model turn through the conversation (which handles recovery), stored as a step.</summary>
        private async Task<IReadOnlyList<ConversationItem>> ModelTurnAsync(
            IModelConversation conversation, TurnRequest request, CancellationToken cancellationToken)
        {
            var startedAt = loop._time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            var turn = await conversation.RunTurnAsync(request, cancellationToken);
            _items.AddRange(turn.Output);
            await SaveStepAsync(NewStep(StepKinds.Model, startedAt, started, ConversationItem.Store(turn.Output)) with
            {
                TtftMs = turn.TimeToFirstOutputMs,
                Transport = turn.Transport switch
                {
                    ModelTransport.WebSocket => StepKinds.WebSocketTransport,
                    ModelTransport.Http => StepKinds.HttpTransport,
                    _ => null,
                },
                SocketId = turn.SocketId,
                SocketReused = turn.SocketReused,
                Chained = turn.Chained,
                ResponseId = turn.ResponseId,
                InputTokens = turn.Usage.InputTokens,
                CachedTokens = turn.Usage.CachedTokens,
                OutputTokens = turn.Usage.OutputTokens,
                ReasoningTokens = turn.Usage.ReasoningTokens,
                Attempts = turn.Attempts,
                Recovery = turn.Recovery,
                RequestBytes = turn.RequestBytes,
                ModelMs = turn.TransportMs,
            }, cancellationToken);
            return turn.Output;
        }

        /// <summary>Runs one function call; returns whether it failed. Failures go back to the model as the call's output.</summary>
        private async Task<bool> ToolCallAsync(ConversationItem call, CancellationToken cancellationToken)
        {
            var name = call.Name ?? "";
            var callId = call.CallId ?? "";
            var arguments = call.Arguments ?? "{}";
            var startedAt = loop._time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            // A name sent as half a surrogate pair reaches the loop as that escape's text (EventJson): no tool has such a
            // name, and saying why helps the model more than "unknown tool".
            var result = EventJson.HoldsUnpairedSurrogateEscape(name)
                ? ToolResult.Error($"The tool name \"{name}\" is not valid text: it holds half a UTF-16 surrogate pair (shown as its escape). Call one of the tools offered.")
                : await loop._tools.InvokeAsync(new ToolCall(callId, name, arguments), cancellationToken);
            var text = result.IsError ? "ERROR: " + result.Output : result.Output;
            var max = loop._agent.MaxToolOutputChars;
            if (text.Length > max)
            {
                text = StorableText.Cut(text, max) + $"...(cut: the tool returned {text.Length} characters, the limit is {max})";
            }
            var output = ConversationItem.FunctionCallOutput(callId, text);
            _items.Add(output);
            if (result.IsError)
            {
                _lastToolError = result.Output;
            }
            await SaveStepAsync(NewStep(StepKinds.Tool, startedAt, started, ConversationItem.Store([output])) with
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

        private static string AnswerText(IReadOnlyList<ConversationItem> output) => string.Join("\n", output
            .Where(i => i.Kind == ConversationItemKind.AssistantMessage)
            .SelectMany(i => i.Texts()));

        private static string? Truncate(string? text, int max) =>
            text is null || text.Length <= max ? text : StorableText.Cut(text, max) + "...";
    }
}
