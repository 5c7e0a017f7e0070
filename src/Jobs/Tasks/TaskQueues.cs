namespace AgentWorker.Jobs.Tasks;

/// <summary>Hangfire queues by task priority; a server lists them in this order, so higher priority is fetched first.</summary>
public static class TaskQueues
{
    public const string High = "agent_high";
    public const string Normal = "agent_normal";
    public const string Low = "agent_low";

    public static readonly string[] All = [High, Normal, Low];

    public static string ForPriority(int priority) => priority > 0 ? High : priority < 0 ? Low : Normal;
}
