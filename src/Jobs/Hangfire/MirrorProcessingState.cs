using Hangfire.Common;
using Hangfire.States;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// "Processing" as the executor writes it: the job shows on the Processing page under the executor's announced server,
/// and, having no queue entry, is never fetched by a Hangfire worker. (Hangfire's own <c>ProcessingState</c> cannot be
/// constructed outside Hangfire.)
/// </summary>
internal sealed class MirrorProcessingState(string serverId, string workerId, DateTime startedAt) : IState
{
    public string Name => ProcessingState.StateName;

    public string? Reason { get; init; }

    public bool IsFinal => false;

    public bool IgnoreJobLoadException => false;

    public Dictionary<string, string> SerializeData() => new()
    {
        ["StartedAt"] = JobHelper.SerializeDateTime(startedAt),
        ["ServerId"] = serverId,
        ["WorkerId"] = workerId,
    };
}
