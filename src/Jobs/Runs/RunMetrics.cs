using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentWorker.Jobs.Tasks;

namespace AgentWorker.Jobs.Runs;

/// <summary>
/// The runs' instruments (meter <c>AgentWorker.Runs</c>): tasks by outcome, and how long a due task waited for its run.
/// Durations are in seconds, as OpenTelemetry's conventions ask.
/// </summary>
internal sealed class RunMetrics
{
    public const string MeterName = "AgentWorker.Runs";

    private static readonly double[] s_waitBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly Counter<long> _tasksFinished;
    private readonly Histogram<double> _queueWait;

    public RunMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var runs = meters.Create(MeterName);
        _tasksFinished = runs.CreateCounter<long>("agent.tasks.finished", "{task}",
            "Task runs that ended, by agent.task.status (succeeded, failed, cancelled) and error.type");
        _queueWait = runs.CreateHistogram("agent.task.queue_wait", "s",
            "From when a task came due (enqueued, its run_at, its retry) to its run's start",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_waitBuckets });
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
