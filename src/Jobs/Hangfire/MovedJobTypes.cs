using Hangfire;
using Hangfire.Common;

namespace AgentWorker.Jobs.Hangfire;

/// <summary>
/// Hangfire stores a job's type by name (<c>Namespace.Type, AgentWorker.Jobs</c>), in its jobs and its recurring jobs. The
/// control jobs moved into this folder; the names an earlier version stored resolve to the moved types, so a job or a
/// recurring job stored before the move still runs. Any other name goes to the resolver that was in place (Hangfire's
/// default, or a host's own).
/// </summary>
internal static class MovedJobTypes
{
    private const string AssemblyName = "AgentWorker.Jobs";

    /// <summary>The stored names of the moved types (without the assembly), by the type each is now.</summary>
    internal static readonly IReadOnlyDictionary<string, Type> Moved = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["AgentWorker.Jobs.Runs.AgentTaskJob"] = typeof(AgentTaskJob),
        ["AgentWorker.Jobs.Batches.ScheduleJob"] = typeof(ScheduleJob),
        ["AgentWorker.Jobs.Maintenance.RetentionJob"] = typeof(RetentionJob),
    };

    /// <summary>Resolves the moved names, then hands every other name to the resolver in place (once per process).</summary>
    public static IGlobalConfiguration UseMovedJobTypes(this IGlobalConfiguration configuration)
    {
        if (TypeHelper.CurrentTypeResolver.Target is Resolver)
        {
            return configuration;
        }
        return configuration.UseTypeResolver(new Resolver(TypeHelper.CurrentTypeResolver).Resolve);
    }

    /// <summary>The moved type a stored name means, or null. The name may carry version, culture and key after the assembly.</summary>
    internal static Type? Find(string typeName)
    {
        var comma = typeName.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            return null;
        }
        var assembly = typeName[(comma + 1)..].Split(',', 2)[0].Trim();
        return assembly == AssemblyName && Moved.TryGetValue(typeName[..comma].Trim(), out var type) ? type : null;
    }

    private sealed class Resolver(Func<string, Type> next)
    {
        public Type Resolve(string typeName) => Find(typeName) ?? next(typeName);
    }
}
