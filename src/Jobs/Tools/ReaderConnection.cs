using Npgsql;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// One call's own physical connection to the target; disposing it frees the slot and ends the backend. Closing a
/// physical connection takes about 2 ms (Npgsql's terminate and socket shutdown): it happens after the call has its
/// answer, off the call's path.
/// </summary>
internal sealed class ReaderConnection(NpgsqlConnection connection, SemaphoreSlim slots) : IAsyncDisposable
{
    public NpgsqlConnection Connection { get; } = connection;

    public ValueTask DisposeAsync()
    {
        slots.Release();
        _ = Task.Run(async () =>
        {
            try
            {
                await Connection.DisposeAsync();
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or ObjectDisposedException)
            {
                // The backend is gone either way.
            }
        });
        return ValueTask.CompletedTask;
    }
}
