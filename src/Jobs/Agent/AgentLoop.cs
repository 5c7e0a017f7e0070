using System.Diagnostics;
using System.Runtime.CompilerServices;
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
    /// The tools a selection offers, made once per selection (the registry caches selections, so every run of an agent
    /// shares one): each schema as <see cref="RegisteredTool"/> settled it, strict where it fits the subset.
    /// </summary>
    private readonly ConditionalWeakTable<ToolSelection, ToolSet> _toolSets = new();

    internal ToolSet ToolSetOf(ToolSelection selection) => _toolSets.GetValue(selection, static s => new ToolSet(s.Tools.Select(t =>
        new ToolDefinition(t.Name, t.Description, JsonSerializer.SerializeToElement(t.WireSchema), t.Strict))));

    /// <summary>Runs (or resumes, from <paramref name="checkpoint"/>: the task's stored steps and its calls in doubt) one task.</summary>
    public async Task<TaskOutcome> RunAsync(
        AgentTask task, Checkpoint checkpoint, IStepSink steps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(steps);
        // The deadline is the run's: it cancels this token (Runs/TaskRunner).
        var run = new Run(this, task, steps);
        var outcome = await run.ExecuteAsync(checkpoint, cancellationToken);
        // The task records the tools its run offered with its outcome (the statement that ends the run writes the row
        // anyway). Written mid-run, an update of the task's row beside a step's insert lost steps in a database restart.
        return outcome with { Tools = [.. run.ToolNames] };
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

        public IReadOnlyList<string> ToolNames => _selection.Names;

        /// <summary>The tools this run may use, resolved once at its start.</summary>
        private readonly ToolSelection _selection = loop._tools.Select(task.ToolPatterns);

        public async Task<TaskOutcome> ExecuteAsync(Checkpoint checkpoint, CancellationToken cancellationToken)
        {
            _items.Add(ConversationItem.UserMessage(task.Prompt));
            var (turnsDone, calls, answer) = Restore(checkpoint.Steps);
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
                Tools = loop.ToolSetOf(_selection),
                Items = _items,
                ReasoningEffort = effort,
                MaxOutputTokens = maxOutput,
            };
            var open = checkpoint.OpenCalls.ToDictionary(c => c.CallId, StringComparer.Ordinal);
            if (calls.Select(c => open.GetValueOrDefault(c.CallId ?? "")).FirstOrDefault(c => c is { Idempotent: false, Resolution: null }) is { } doubt)
            {
                // The worker stopped while this call ran, and running it again could do twice what it did once.
                return TaskOutcome.Failed(ErrorCodes.ToolInDoubt,
                    $"The worker stopped while {doubt.ToolName} was running (call {doubt.CallId}, idempotency key {doubt.IdempotencyKey}); "
                    + $"whether it took effect is unknown, and the tool does not say it is idempotent. Check, then run "
                    + $"agent.retry({task.Id}, in_doubt => 'rerun') to call it again or agent.retry({task.Id}, in_doubt => 'skip') to go on without it.",
                    Steps);
            }
            var consecutiveToolErrors = 0;
            await using var conversation = loop._model.OpenConversation(request.Model, task.Id);
            for (var turn = turnsDone + 1; ; turn++)
            {
                foreach (var call in calls)
                {
                    var failed = open.Remove(call.CallId ?? "", out var skipped) && skipped.Resolution == "skip"
                        ? await SkippedCallAsync(call, cancellationToken)
                        : await ToolCallAsync(call, cancellationToken);
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
            var context = new ToolCallContext(task.Id, task.Attempt, callId, name, task.Agent)
            {
                BeforeRun = (tool, token) => sink.StartCallAsync(new CallStart(task.Id, task.Attempt, callId, tool.Name,
                    ToolCallContext.KeyOf(task.Id, callId), tool.SideEffects == ToolSideEffects.Idempotent), token),
            };
            var result = EventJson.HoldsUnpairedSurrogateEscape(name)
                ? ToolResult.Error($"The tool name \"{name}\" is not valid text: it holds half a UTF-16 surrogate pair (shown as its escape). Call one of the tools offered.")
                : await loop._tools.InvokeAsync(_selection, new ToolCall(callId, name, arguments), context, cancellationToken);
            return await SaveCallAsync(name, callId, arguments, result, context.Journaled, startedAt, started, cancellationToken);
        }

        /// <summary>
        /// A call left in doubt that the operator chose to skip: not run; the model is told, and its journal entry is
        /// finished by the step.
        /// </summary>
        private Task<bool> SkippedCallAsync(ConversationItem call, CancellationToken cancellationToken) => SaveCallAsync(
            call.Name ?? "", call.CallId ?? "", call.Arguments ?? "{}",
            ToolResult.Error("An operator skipped this call: the worker stopped while it ran, and whether it took effect is unknown. "
                + "Do not assume it happened or that it did not; check before calling it again."),
            journaled: true, loop._time.GetUtcNow(), Stopwatch.GetTimestamp(), cancellationToken);

        /// <summary>Stores a call's output as its step; returns whether the call failed.</summary>
        private async Task<bool> SaveCallAsync(string name, string callId, string arguments, ToolResult result, bool journaled,
            DateTimeOffset startedAt, long started, CancellationToken cancellationToken)
        {
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
                Journaled = journaled,
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
