using System.Text.RegularExpressions;
using AgentWorker.Jobs.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentWorker.Jobs.Hosting;

/// <summary>
/// Owns the process's single LISTEN connection (unpooled, <see cref="AppDatabase.ForListening"/>) for every channel its
/// subscribers name (<see cref="IProcessNotifier"/>). A channel subscribed while connected is listened to at once; a
/// lost connection is made again a second later, every channel listened to again and every subscriber told to resync.
/// </summary>
internal sealed partial class ProcessNotifier(
    [FromKeyedServices(AppDatabase.ListenKey)] NpgsqlDataSource listenSource,
    TimeProvider time,
    ILogger<ProcessNotifier> logger) : BackgroundService, IProcessNotifier
{
    private static readonly TimeSpan s_reconnectDelay = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();

    // Copied on write, read without a lock on every notification.
    private volatile Dictionary<string, Subscription[]> _byChannel = new(StringComparer.Ordinal);

    // Cancelled when a channel is subscribed that the connection does not listen to yet.
    private CancellationTokenSource _channelAdded = new();

    public IDisposable Subscribe(string channel, Action notified, Action? resync = null)
    {
        ArgumentNullException.ThrowIfNull(notified);
        if (!ChannelName().IsMatch(channel))
        {
            throw new ArgumentException($"'{channel}' is not a plain channel name (lower-case letters, digits, underscores).", nameof(channel));
        }
        var subscription = new Subscription(this, channel, notified, resync);
        CancellationTokenSource? added = null;
        lock (_lock)
        {
            var byChannel = new Dictionary<string, Subscription[]>(_byChannel, StringComparer.Ordinal);
            var existing = byChannel.GetValueOrDefault(channel, []);
            byChannel[channel] = [.. existing, subscription];
            _byChannel = byChannel;
            if (existing.Length == 0)
            {
                added = _channelAdded;
                _channelAdded = new CancellationTokenSource();
            }
        }
        added?.Cancel();
        added?.Dispose();
        return subscription;
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_lock)
        {
            var byChannel = new Dictionary<string, Subscription[]>(_byChannel, StringComparer.Ordinal);
            if (byChannel.TryGetValue(subscription.Channel, out var existing))
            {
                // The channel stays listened to: an UNLISTEN would need the connection the wait holds, and a NOTIFY
                // nobody subscribes to costs nothing.
                byChannel[subscription.Channel] = [.. existing.Where(s => s != subscription)];
                _byChannel = byChannel;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                LogListenFailed(ex);
                try
                {
                    await Task.Delay(s_reconnectDelay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One connection's life: LISTEN to every subscribed channel, then wait for notifications until it fails.</summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await listenSource.OpenConnectionAsync(stoppingToken);
        connection.Notification += (_, e) => Notify(e.Channel);
        var listened = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            CancellationToken added;
            string[] fresh;
            lock (_lock)
            {
                added = _channelAdded.Token;
                fresh = [.. _byChannel.Keys.Where(c => !listened.Contains(c))];
            }
            if (fresh.Length > 0)
            {
                // Names checked on Subscribe: plain identifiers, safe to put in the statement.
                await using (var listen = new NpgsqlCommand(string.Concat(fresh.Select(c => $"LISTEN {c};")), connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                listened.UnionWith(fresh);
                Resync(fresh);
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, added);
            try
            {
                await connection.WaitAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // A channel was subscribed: listen to it too.
            }
        }
    }

    private void Notify(string channel)
    {
        if (_byChannel.TryGetValue(channel, out var subscriptions))
        {
            foreach (var subscription in subscriptions)
            {
                subscription.Notified();
            }
        }
    }

    private void Resync(IEnumerable<string> channels)
    {
        var byChannel = _byChannel;
        foreach (var channel in channels)
        {
            foreach (var subscription in byChannel.GetValueOrDefault(channel, []))
            {
                subscription.Resync?.Invoke();
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _channelAdded.Dispose();
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex ChannelName();

    private sealed class Subscription(ProcessNotifier notifier, string channel, Action notified, Action? resync) : IDisposable
    {
        public string Channel { get; } = channel;

        public Action Notified { get; } = notified;

        public Action? Resync { get; } = resync;

        public void Dispose() => notifier.Unsubscribe(this);
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "The process's LISTEN connection failed; reconnecting")]
    private partial void LogListenFailed(Exception exception);
}
