using System.Collections.Concurrent;

namespace AgentWorker.Jobs.Tasks;

/// <summary>The runs of this process by task id, so a cancel request (NOTIFY, heartbeat) can stop the right one.</summary>
public sealed class RunCancellations
{
    private readonly ConcurrentDictionary<long, Registration> _runs = new();

    /// <summary>Registers a run; its token also fires with <paramref name="linked"/>. Dispose the result when the run ends.</summary>
    public Registration Register(long taskId, CancellationToken linked)
    {
        var registration = new Registration(this, taskId, CancellationTokenSource.CreateLinkedTokenSource(linked));
        _runs[taskId] = registration;
        return registration;
    }

    /// <summary>Stops the run of this task if it runs in this process; returns whether it did.</summary>
    public bool Cancel(long taskId) => _runs.TryGetValue(taskId, out var run) && run.Cancel();

    /// <summary>One registered run: its token, and whether a cancel (rather than shutdown or a deadline) stopped it.</summary>
    public sealed class Registration : IDisposable
    {
        private readonly RunCancellations _owner;
        private readonly long _taskId;
        private readonly CancellationTokenSource _source;

        internal Registration(RunCancellations owner, long taskId, CancellationTokenSource source)
        {
            _owner = owner;
            _taskId = taskId;
            _source = source;
        }

        public CancellationToken Token => _source.Token;

        /// <summary>Set by <see cref="Cancel"/>: the task was cancelled, not interrupted.</summary>
        public bool Cancelled { get; private set; }

        public bool Cancel()
        {
            Cancelled = true;
            try
            {
                _source.Cancel();
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false; // the run ended at that instant
            }
        }

        public void Dispose()
        {
            _owner._runs.TryRemove(new KeyValuePair<long, Registration>(_taskId, this));
            _source.Dispose();
        }
    }
}
