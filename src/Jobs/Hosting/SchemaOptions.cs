namespace AgentWorker.Jobs.Hosting;

/// <summary>
/// Whether a process brings the database schema up to date when it starts. Section <c>Worker</c>, read by every
/// process that uses the App database (a worker, the dashboard, a host that only enqueues).
/// </summary>
public sealed class SchemaOptions
{
    /// <summary>
    /// Apply pending migrations (ours and Hangfire's schema) on start, under a lock that serializes processes starting
    /// together. Default true. Set <c>Worker__PrepareSchemaIfNecessary=false</c> where a deployment step runs
    /// <c>Worker migrate</c> and the processes' login may not change the schema: the process then refuses to start
    /// while a migration it knows is missing, naming it.
    /// </summary>
    public bool PrepareSchemaIfNecessary { get; set; } = true;
}
