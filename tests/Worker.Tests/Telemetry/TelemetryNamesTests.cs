using AgentWorker.Jobs.Runs;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Telemetry;

namespace AgentWorker.Tests.Telemetry;

/// <summary>
/// The spans and metrics live with the features they measure; the names a user's OpenTelemetry configuration adds are
/// listed in Telemetry. They must stay the same names.
/// </summary>
public sealed class TelemetryNamesTests
{
    [Fact]
    public void TheFeaturesSourcesAndMeters_AreTheNamesTelemetryExports()
    {
        Assert.Equal(AgentTelemetry.TasksSourceName, TaskTelemetry.SourceName);
        Assert.Equal(AgentTelemetry.RunsSourceName, RunTelemetry.SourceName);
        Assert.Contains(TaskTelemetry.SourceName, AgentTelemetry.SourceNames);
        Assert.Contains(RunTelemetry.SourceName, AgentTelemetry.SourceNames);
        Assert.Contains(RunMetrics.MeterName, AgentTelemetry.MeterNames);
        Assert.Equal(["AgentWorker.Tasks", "AgentWorker.Runs"], new[] { TaskTelemetry.SourceName, RunTelemetry.SourceName });
    }
}
