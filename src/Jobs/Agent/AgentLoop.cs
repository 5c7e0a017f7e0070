using System.Diagnostics;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentWorker.Jobs.Agent;

/// <summary>
/// Runs one task: model turn, tool calls, model turn ... over one leased socket, chaining turns with
/// <c>previous_response_id</c> and <c>store:false</c>. Bounded by max steps, the deadline and consecutive tool errors;
/// each step is stored as it completes.
/// </summary>
public sealed partial class AgentLoop(
    SocketPool pool,
    ToolRegistry tools,
    TaskStore store,
    IOptions<LlmOptions> llmOptions,
    IOptions<AgentOptions> agentOptions,
    TimeProvider time,
    ILogger<AgentLoop> logger)
{
    private readonly SocketPool _pool = pool;
    private readonly ToolRegistry _tools = tools;
    private readonly TaskStore _store = store;
    private readonly LlmOptions _llm = llmOptions.Value;
    private readonly AgentOptions _agent = agentOptions.Value;
    private readonly TimeProvider _time = time;
    public async Task<TaskOutcome> RunAsync(AgentTask task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (task.Deadline is { } until)
        {
            var left = new DateTimeOffset(DateTime.SpecifyKind(until, DateTimeKind.Utc)) - _time.GetUtcNow();
            deadline.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
        var run = new Run(this, task);
        try
        {
            return await run.ExecuteAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            return TaskOutcome.Failed("deadline", $"The task passed its deadline ({task.Deadline:O}) after {run.Steps} steps.",
                run.Usage, run.Steps);
        }
    }

    /// <summary>The state of one run: transcript, step counter, usage.</summary>
    private sealed class Run(AgentLoop loop, AgentTask task)
    {
        private readonly Transcript _transcript = new();
        private int _seq = task.LastSeq;

        public TokenUsage Usage { get; private set; }

        public int Steps { get; private set; }

        public async Task<TaskOutcome> ExecuteAsync(CancellationToken cancellationToken)
        {
            _transcript.Add(Transcript.UserMessage(task.Prompt));
            var consecutiveToolErrors = 0;
            await using var lease = await loop._pool.LeaseAsync(cancellationToken);
            for (var turn = 1; ; turn++)
            {
                if (turn > task.MaxSteps)
                {
                    return TaskOutcome.Failed("max_steps",
                        $"The model was still calling tools after {task.MaxSteps} turns (max_steps).", Usage, Steps);
                }
                var modelTurn = await ModelTurnAsync(lease, cancellationToken);
                var calls = modelTurn.Output.Where(i => (string?)i["type"] == "function_call").ToList();
                if (calls.Count == 0)
                {
                    return TaskOutcome.Succeeded(AnswerText(modelTurn.Output), Usage, Steps);
                }
                foreach (var call in calls)
                {
                    var failed = await ToolCallAsync(call, cancellationToken);
                    consecutiveToolErrors = failed ? consecutiveToolErrors + 1 : 0;
                    if (consecutiveToolErrors >= loop._agent.MaxConsecutiveToolErrors)
                    {
                        return TaskOutcome.Failed("tool_errors",
                            $"{consecutiveToolErrors} tool calls in a row failed; the last: {Truncate(_lastToolError, 500)}", Usage, Steps);
                    }
                }
            }
        }

        private string? _lastToolError;

        /// <summary>One turn; on a lost socket or a lost chain, once more on a fresh socket with the full transcript.</summary>
        private async Task<ModelTurn> ModelTurnAsync(SocketLease lease, CancellationToken cancellationToken)
        {
            var startedAt = loop._time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            var chained = lease.Socket.LastResponseId is not null && _transcript.SentCount > 0;
            var reused = lease.Reused;
            ModelTurn modelTurn;
            try
            {
                modelTurn = await lease.Socket.RunTurnAsync(CreateEvent(lease.Socket, chained), cancellationToken);
            }
            catch (ModelException ex) when (ex.IsRecoverableOnFreshSocket)
            {
                loop.LogRecovering(task.Id, lease.Socket.Id, ex.Kind, ex.Message);
                await lease.RenewAsync(cancellationToken);
                chained = false;
                reused = false;
                startedAt = loop._time.GetUtcNow();
                started = Stopwatch.GetTimestamp();
                modelTurn = await lease.Socket.RunTurnAsync(CreateEvent(lease.Socket, chained: false), cancellationToken);
            }
            lease.MarkUsed();
            _transcript.AddResponse(modelTurn.Output);
            Usage += modelTurn.Usage;
            var items = new JsonArray(modelTurn.Output.Select(o => (JsonNode)o.DeepClone()).ToArray()).ToJsonString();
            await SaveStepAsync(NewStep("model", startedAt, started, items) with
            {
                TtftMs = modelTurn.TimeToFirstOutputMs,
                Transport = "ws",
                SocketId = lease.Socket.Id,
                SocketReused = reused,
                Chained = chained,
                ResponseId = modelTurn.ResponseId,
                InputTokens = modelTurn.Usage.InputTokens,
                CachedTokens = modelTurn.Usage.CachedTokens,
                OutputTokens = modelTurn.Usage.OutputTokens,
                ReasoningTokens = modelTurn.Usage.ReasoningTokens,
            }, cancellationToken);
            return modelTurn;
        }

        private JsonObject CreateEvent(ResponsesSocket socket, bool chained)
        {
            var create = new JsonObject
            {
                ["type"] = "response.create",
                ["model"] = task.Model ?? loop._llm.Model,
                ["store"] = false,
                ["instructions"] = task.Instructions ?? loop._agent.DefaultInstructions,
                ["tools"] = loop._tools.Definitions.DeepClone(),
                ["tool_choice"] = "auto",
                ["parallel_tool_calls"] = true,
                ["input"] = _transcript.Input(chained),
            };
            if (chained)
            {
                create["previous_response_id"] = socket.LastResponseId;
            }
            return create;
        }

        /// <summary>Runs one function call; returns whether it failed. Failures go back to the model as the call's output.</summary>
        private async Task<bool> ToolCallAsync(JsonObject call, CancellationToken cancellationToken)
        {
            var name = (string?)call["name"] ?? "";
            var callId = (string?)call["call_id"] ?? "";
            var arguments = (string?)call["arguments"] ?? "{}";
            var startedAt = loop._time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            var result = await loop._tools.InvokeAsync(name, arguments, cancellationToken);
            var output = Transcript.FunctionCallOutput(callId, result.IsError ? "ERROR: " + result.Output : result.Output);
            _transcript.Add(output);
            if (result.IsError)
            {
                _lastToolError = result.Output;
            }
            await SaveStepAsync(NewStep("tool", startedAt, started, new JsonArray(output.DeepClone()).ToJsonString()) with
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
            await loop._store.InsertStepAsync(step, cancellationToken);
            Steps++;
        }

        private static string AnswerText(IReadOnlyList<JsonObject> output) => string.Join("\n", output
            .Where(i => (string?)i["type"] == "message")
            .SelectMany(i => i["content"] as JsonArray ?? [])
            .Where(c => (string?)c?["type"] == "output_text")
            .Select(c => (string?)c?["text"] ?? ""));

        private static string? Truncate(string? text, int max) =>
            text is null || text.Length <= max ? text : text[..max] + "...";
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning,
        Message = "Task {TaskId}: socket {SocketId} failed ({Kind}): {Reason}; resending the full transcript on a fresh socket")]
    private partial void LogRecovering(long taskId, string socketId, ModelFailureKind kind, string reason);
}
