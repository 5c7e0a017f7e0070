namespace AgentWorker.Simulator.Protocol;

/// <summary>Applies time to first token once, then tokens per second, to one response's events.</summary>
internal sealed class Pacer(SimulatorOptions options, CancellationToken cancellationToken, int extraFirstTokenMs = 0)
{
    private bool _started;

    public async Task PaceAsync(int outputIndex, int tokens)
    {
        if (!_started)
        {
            _started = true;
            if (options.TimeToFirstTokenMs + extraFirstTokenMs > 0)
            {
                await Task.Delay(options.TimeToFirstTokenMs + extraFirstTokenMs, cancellationToken);
            }
        }
        if (tokens > 0 && options.TokensPerSecond > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)tokens / options.TokensPerSecond), cancellationToken);
        }
    }
}
