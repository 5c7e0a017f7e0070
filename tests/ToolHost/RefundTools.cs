using System.ComponentModel;
using AgentWorker.Jobs.Tools;

namespace AgentWorker.ToolHost;

/// <summary>
/// Two refund tools: <c>refund</c> has side effects and says nothing more (a second call refunds again), so a call the
/// worker was killed in is in doubt; <c>refund_keyed</c> passes the call's idempotency key on to a unique column, so it
/// is declared idempotent and a call in doubt is simply run again.
/// </summary>
public static class RefundTools
{
    [Description("Refunds an order. Each call refunds again.")]
    [ToolEffects(ToolSideEffects.SideEffects)]
    public static async Task<string> RefundAsync(
        [Description("The order to refund, such as o-17.")] string order_id, ToolCallContext call, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var ledger = services.GetRequiredService<Ledger>();
        await ledger.RecordAsync(call.IdempotencyKey, call.TaskId, order_id, cancellationToken);
        await WaitAsync(ledger, cancellationToken);
        return $"Refunded order {order_id}.";
    }

    [Description("Refunds an order once per idempotency key: calling it again for the same call refunds nothing more.")]
    [ToolEffects(ToolSideEffects.Idempotent)]
    public static async Task<string> RefundKeyedAsync(
        [Description("The order to refund, such as o-17.")] string order_id, ToolCallContext call, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var ledger = services.GetRequiredService<Ledger>();
        await ledger.RecordKeyedAsync(call.IdempotencyKey, call.TaskId, order_id, cancellationToken);
        await WaitAsync(ledger, cancellationToken);
        return $"Refunded order {order_id} (keyed).";
    }

    /// <summary>After the effect and before the answer: a kill here leaves a call that took effect and never finished.</summary>
    private static Task WaitAsync(Ledger ledger, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ledger.MaxDelay.TotalMilliseconds), TimeProvider.System, cancellationToken);
}
