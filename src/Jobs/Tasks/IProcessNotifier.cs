namespace AgentWorker.Jobs.Tasks;

/// <summary>
/// The process's one LISTEN connection, shared by every component that reacts to a NOTIFY (the run executor, the batch
/// expander, the schedule sync). A notification only wakes: its payload is never given, since any login of the
/// database may send one on any channel. Each time a channel is listened to anew (the first LISTEN, and after the
/// connection was lost and made again) its subscribers are told to resync: a NOTIFY may have been missed meanwhile.
/// </summary>
internal interface IProcessNotifier
{
    /// <summary>
    /// Calls <paramref name="notified"/> on each NOTIFY on <paramref name="channel"/> (a plain lower-case name), and
    /// <paramref name="resync"/> each time the channel is listened to anew. Both run on the notifier's own flow and
    /// must only signal (a wake-up), never block. Disposing the subscription ends it.
    /// </summary>
    IDisposable Subscribe(string channel, Action notified, Action? resync = null);
}
