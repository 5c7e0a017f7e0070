using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Telemetry;

/// <summary>
/// The worker's run instruments on <see cref="System.Diagnostics.Metrics"/>: tasks by outcome and how long a due task
/// waited for its run, on meter <c>AgentWorker.Runs</c>. Step durations, the GenAI client metrics and the socket pool's
/// live with what they measure (<c>Llm/ModelTurnMetrics</c>, <c>Tools/ToolMetrics</c>, <c>Llm/SocketPoolMetrics</c>).
/// Durations are in seconds, as OpenTelemetry's conventions ask.
/// </summary>
internal sealed class AgentMetrics
{
    public const string RunsMeterName = "AgentWorker.Runs";

    // Seconds: model turns run from tens of milliseconds to minutes.
    private static readonly double[] s_durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly Counter<long> _tasksFinished;
    private readonly Histogram<double> _queueWait;

    public AgentMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var runs = meters.Create(RunsMeterName);
        _tasksFinished = runs.CreateCounter<long>("agent.tasks.finished", "{task}",
            "Task runs that ended, by agent.task.status (succeeded, failed, cancelled) and error.type");
        _queueWait = runs.CreateHistogram("agent.task.queue_wait", "s",
            "From when a task came due (enqueued, its run_at, its retry) to its run's start",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
    }

    public void TaskFinished(TaskOutcome outcome)
    {
        var tags = new TagList { { "agent.task.status", outcome.Status } };
        if (outcome.ErrorCode is not null)
        {
            // Only on failures, as OpenTelemetry's conventions ask: no empty label on every success.
            tags.Add("error.type", outcome.ErrorCode);
        }
        _tasksFinished.Add(1, tags);
    }

    public void QueueWait(double seconds) => _queueWait.Record(Math.Max(0, seconds));
}
