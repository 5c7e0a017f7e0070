using Dapper;
using Npgsql;

namespace AgentWorker.ToolHost;

/// <summary>
/// Where the refund tools record what they did, in the App database (schema <c>toolhost</c>): the effects a crash test
/// counts. <c>toolhost.refunds</c> has no unique constraint, so a refund done twice shows as two rows;
/// <c>toolhost.keyed_refunds</c> is keyed by the call's idempotency key, and counts the calls that reached it.
/// </summary>
public sealed class Ledger(NpgsqlDataSource dataSource, TimeSpan maxDelay)
{
    private const string CreateSql = """
        select pg_advisory_xact_lock(hashtext('toolhost.ledger'));
        create schema if not exists toolhost;
        create table if not exists toolhost.refunds (
            id              bigint generated always as identity primary key,
            idempotency_key text        not null,
            task_id         bigint      not null,
            order_id        text        not null,
            pid             integer     not null,
            recorded_at     timestamptz not null default now());
        create table if not exists toolhost.keyed_refunds (
            idempotency_key text        primary key,
            task_id         bigint      not null,
            order_id        text        not null,
            pid             integer     not null,
            calls           integer     not null default 1,
            recorded_at     timestamptz not null default now());
        """;

    private const string RefundSql = """
        insert into toolhost.refunds (idempotency_key, task_id, order_id, pid) values (@key, @taskId, @orderId, @pid)
        """;

    // The effect happens once per key; a second call only counts itself.
    private const string KeyedRefundSql = """
        insert into toolhost.keyed_refunds as k (idempotency_key, task_id, order_id, pid) values (@key, @taskId, @orderId, @pid)
        on conflict (idempotency_key) do update set calls = k.calls + 1
        """;

    /// <summary>The longest a refund waits after recording its effect and before it returns (the window a kill can land in).</summary>
    public TimeSpan MaxDelay { get; } = maxDelay;

    /// <summary>Creates the ledger tables if they are missing (processes starting together take turns).</summary>
    public async Task CreateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(CreateSql, transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    public Task RecordAsync(string key, long taskId, string orderId, CancellationToken cancellationToken) =>
        ExecuteAsync(RefundSql, key, taskId, orderId, cancellationToken);

    public Task RecordKeyedAsync(string key, long taskId, string orderId, CancellationToken cancellationToken) =>
        ExecuteAsync(KeyedRefundSql, key, taskId, orderId, cancellationToken);

    private async Task ExecuteAsync(string sql, string key, long taskId, string orderId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, new { key, taskId, orderId, pid = Environment.ProcessId },
            cancellationToken: cancellationToken));
    }
}
