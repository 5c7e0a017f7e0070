using AgentWorker.Jobs.Llm;
using AgentWorker.Jobs.Tasks;
using Npgsql;

namespace AgentWorker.Jobs.Runs;

/// <summary>Which failures are worth another attempt, how long to wait for it, and the error code when none is left.</summary>
internal static class RunRetries
{
    private static readonly TimeSpan[] s_delays =
        [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(10)];

    /// <summary>Failures that may pass: the model or its connection, no free socket in time, the database.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        ModelException model => model.IsTransient || model.Kind is ModelFailureKind.ConnectionLost or ModelFailureKind.Protocol,
        TimeoutException => true,
        NpgsqlException db => db.IsTransient,
        _ => false,
    };

    /// <summary>The wait before retry number <paramref name="retries"/> + 1, jittered by ±10 % so retries do not come back in step.</summary>
    public static TimeSpan Delay(int retries) =>
        s_delays[Math.Clamp(retries, 0, s_delays.Length - 1)] * (0.9 + (Random.Shared.NextDouble() / 5));

    public static string ErrorCode(Exception exception) => exception switch
    {
        ModelException or TimeoutException => ErrorCodes.ModelError,
        NpgsqlException => ErrorCodes.DatabaseError,
        _ => ErrorCodes.InternalError,
    };
}
