using System.Text.Json.Nodes;

namespace AgentWorker.Simulator.Protocol;

/// <summary>Applies time to first token once, then tokens per second, to one response's events.</summary>
internal sealed class Pacer(SimulatorOptions options, CancellationToken cancellationToken, double extraFirstTokenMs = 0)
{
    /// <summary>The pacer of one response: fault delay plus the prefill of its uncached input tokens.</summary>
    public static Pacer For(SimulatorOptions options, JsonObject usage, double faultDelayMs, CancellationToken cancellationToken)
    {
        var input = (int?)usage["input_tokens"] ?? 0;
        var cached = (int?)usage["input_tokens_details"]?["cached_tokens"] ?? 0;
        return new Pacer(options, cancellationToken, faultDelayMs + (options.PrefillMsPerKToken * (input - cached) / 1000.0));
    }

    private bool _started;

    public async Task PaceAsync(int outputIndex, int tokens)
    {
        if (!_started)
        {
            _started = true;
            var delayMs = options.TimeToFirstTokenMs + extraFirstTokenMs;
            if (delayMs > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(delayMs), cancellationToken);
            }
        }
        if (tokens > 0 && options.TokensPerSecond > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)tokens / options.TokensPerSecond), cancellationToken);
        }
    }
}
