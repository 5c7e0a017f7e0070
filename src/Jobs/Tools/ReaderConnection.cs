using Npgsql;

namespace AgentWorker.Jobs.Tools;

/// <summary>One call's own physical connection to the target; disposing it ends the backend and frees the slot.</summary>
internal sealed class ReaderConnection(NpgsqlConnection connection, SemaphoreSlim slots) : IAsyncDisposable
{
    public NpgsqlConnection Connection { get; } = connection;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.DisposeAsync();
        }
        finally
        {
            slots.Release();
        }
    }
}
