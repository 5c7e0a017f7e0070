namespace AgentWorker.Jobs.Batches;

/// <summary>The schedules of the configuration (section <c>Schedules</c>, one child per schedule).</summary>
internal sealed record ConfiguredSchedules(IReadOnlyDictionary<string, ScheduleDefinition> Schedules);
