using System.Diagnostics;
using Npgsql;

namespace AgentWorker.Testing;

/// <summary>
/// Watches the claims of every worker process on a database that may go away: every 100 ms it reads the running
/// tasks and records each new claim (a task and attempt not seen running before) with the process that holds it
/// (<c>lease_owner</c> is <c>host:pid:random:task:attempt</c>). Polls through failures, reconnecting, so a fault of the
/// server shows as a gap and the first claims after it show when each process claims again.
/// </summary>
public sealed class ClaimWatch : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly Stopwatch _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<(long TaskId, int Attempt)> _seen = [];
    private readonly List<Claim> _claims = [];
    private readonly Task _polling;

    /// <summary>One claim: when it was first seen (on <see cref="ClaimWatch"/>'s clock), by which process, of what.</summary>
    public sealed record Claim(TimeSpan SeenAt, int Pid, long TaskId, int Attempt);

    private ClaimWatch(string connectionString, Stopwatch clock)
    {
        // Unpooled: after a restart a pooled idle connection is dead.
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        _clock = clock;
        _polling = PollAsync(_stop.Token);
    }

    /// <summary>Starts watching; <paramref name="clock"/> times the claims.</summary>
    public static ClaimWatch Start(string connectionString, Stopwatch clock) => new(connectionString, clock);

    /// <summary>The claims seen so far.</summary>
    public IReadOnlyList<Claim> Claims
    {
        get
        {
            lock (_claims)
            {
                return [.. _claims];
            }
        }
    }

    /// <summary>
    /// Waits until every process of <paramref name="pids"/> made a claim seen after <paramref name="since"/>, or
    /// <paramref name="timeout"/> passed; returns, per process, how long after <paramref name="since"/> its first one
    /// came (null: none in time).
    /// </summary>
    public async Task<TimeSpan?[]> FirstClaimsAfterAsync(TimeSpan since, int[] pids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pids);
        var limit = _clock.Elapsed + timeout;
        while (true)
        {
            var claims = Claims;
            var first = pids.Select(pid => claims.Where(c => c.Pid == pid && c.SeenAt > since).Select(c => (TimeSpan?)(c.SeenAt - since)).FirstOrDefault())
                .ToArray();
            if (first.All(f => f is not null) || _clock.Elapsed > limit)
            {
                return first;
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    private async Task PollAsync(CancellationToken stop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(stop);
                while (!stop.IsCancellationRequested)
                {
                    await using (var command = new NpgsqlCommand(
                        "select id, attempt, split_part(lease_owner, ':', 2)::int from agent.tasks where status = 'running' and lease_owner is not null",
                        connection))
                    await using (var reader = await command.ExecuteReaderAsync(stop))
                    {
                        var now = _clock.Elapsed;
                        while (await reader.ReadAsync(stop))
                        {
                            if (_seen.Add((reader.GetInt64(0), reader.GetInt32(1))))
                            {
                                lock (_claims)
                                {
                                    _claims.Add(new Claim(now, reader.GetInt32(2), reader.GetInt64(0), reader.GetInt32(1)));
                                }
                            }
                        }
                    }
                    await Task.Delay(100, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
            {
                // The server is away: look again shortly.
                try
                {
                    await Task.Delay(100, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _polling;
        _stop.Dispose();
    }
}
