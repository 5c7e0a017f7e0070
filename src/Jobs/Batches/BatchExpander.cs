using AgentWorker.Jobs.Tasks;
using AgentWorker.Jobs.Tools;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Jobs.Batches;

/// <summary>
/// Turns a pending template batch into its tasks: runs its source query through the tools' read-only path (the reader
/// login, one statement, read-only, under the tools' time limit), fills the template from each row, and creates every
/// task in one transaction with the batch's move to <c>running</c>: all or nothing. The batch row is held
/// (<c>FOR UPDATE SKIP LOCKED</c>) meanwhile, so however many workers run, one expands it. A query or template that
/// cannot be used ends the batch <c>failed</c> with the reason, and no task.
/// </summary>
internal sealed partial class BatchExpander(
    [FromKeyedServices(AppDatabase.Key)] NpgsqlDataSource dataSource,
    ReadOnlySql sql,
    BatchSignals signals,
    IOptions<BatchOptions> options,
    TimeProvider time,
    ILogger<BatchExpander> logger) : BackgroundService
{
    private const string ClaimSql = """
        select id, name, template, source_sql as SourceSql, instructions, model, priority, max_steps as MaxSteps, deadline, agent
          from agent.batches where status = 'pending' order by id limit 1 for update skip locked
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await ExpandOneAsync(stoppingToken))
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                LogExpandFailed(ex);
            }
            await signals.WaitForBatchAsync(options.Value.PollInterval, time, stoppingToken);
        }
    }

    /// <summary>Expands one pending batch; false when none is pending (or every one is being expanded elsewhere).</summary>
    internal async Task<bool> ExpandOneAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var batch = await connection.QuerySingleOrDefaultAsync<PendingBatch>(new CommandDefinition(ClaimSql, transaction: transaction, cancellationToken: cancellationToken));
        if (batch is null)
        {
            return false;
        }
        var (prompts, error) = await RenderAsync(batch, cancellationToken);
        if (error is null && prompts.Count > 0)
        {
            // A refusal (a deadline passed while it waited) rolls back to here and fails the batch instead.
            await transaction.SaveAsync("enqueue", cancellationToken);
            try
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    select agent.enqueue_many(prompts => @prompts, instructions => @Instructions, model => @Model,
                        priority => @Priority, max_steps => @MaxSteps, deadline => @Deadline, batch_id => @Id, agent => @Agent);
                    update agent.batches set status = 'running' where id = @Id; -- agent.enqueue counted each task into total
                    """, new { prompts = prompts.ToArray(), batch.Instructions, batch.Model, batch.Priority, batch.MaxSteps, batch.Deadline, batch.Id, batch.Agent },
                    transaction, cancellationToken: cancellationToken));
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidParameterValue)
            {
                await transaction.RollbackAsync("enqueue", cancellationToken);
                error = ex.MessageText;
            }
        }
        if (error is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update agent.batches set status = 'failed', error = @error, finished_at = now() where id = @Id",
                new { error = StorableText.Error(error), batch.Id }, transaction, cancellationToken: cancellationToken));
            LogBatchFailed(batch.Id, batch.Name, error);
        }
        else if (prompts.Count == 0)
        {
            // Nothing to do tonight (no customer ordered): the batch is finished at once, without a follow-up.
            await connection.ExecuteAsync(new CommandDefinition(
                "update agent.batches set status = 'finished', total = 0, finished_at = now(), error = 'source_sql returned no rows: no task was created' where id = @Id",
                new { batch.Id }, transaction, cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
        if (error is null)
        {
            LogBatchExpanded(batch.Id, batch.Name, prompts.Count);
        }
        return true;
    }

    private async Task<(List<string> Prompts, string? Error)> RenderAsync(PendingBatch batch, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxTasks;
        var maxChars = options.Value.MaxTotalChars;
        var template = PromptTemplate.Parse(batch.Template);
        // Only the columns the template names are read, up to the cap + 1 rows and the characters' cap.
        var rows = await sql.ReadRowsAsync(batch.SourceSql, template.Columns, max, options.Value.MaxValueChars, maxChars, cancellationToken);
        if (rows.Error is not null)
        {
            return ([], $"source_sql: {rows.Error}");
        }
        if (template.MissingColumn(rows.Columns) is { } missing)
        {
            return ([], $"template: {{{{{missing}}}}} names no column of source_sql, whose columns are: {string.Join(", ", rows.Columns)}");
        }
        var duplicate = rows.Columns.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1 && template.Columns.Contains(g.Key));
        if (duplicate is not null)
        {
            return ([], $"template: {{{{{duplicate.Key}}}}} is ambiguous: source_sql returns more than one column named {duplicate.Key}");
        }
        if (rows.MoreRows)
        {
            return ([], $"source_sql returned more than {max} rows; a batch holds at most {max} tasks (Batches:MaxTasks)");
        }
        if (rows.MoreChars)
        {
            // Reading stopped at the cap: the prompts these values fill in would hold at least as much.
            return ([], $"source_sql's values for the template's columns come to more than {maxChars} characters by row {rows.Rows.Count}; "
                + $"a batch's prompts hold at most {maxChars} in all (Batches:MaxTotalChars)");
        }
        var prompts = new List<string>(rows.Rows.Count);
        var total = 0L;
        foreach (var row in rows.Rows)
        {
            var prompt = template.Render(column => row[IndexOf(rows.Columns, column)]);
            if (string.IsNullOrWhiteSpace(prompt) || prompt.Length > 200_000)
            {
                return ([], $"template: row {prompts.Count + 1} of source_sql makes a prompt of {prompt.Length} characters; a prompt must be 1 to 200000 characters");
            }
            total += prompt.Length;
            if (total > maxChars)
            {
                return ([], $"template: the prompts of source_sql's first {prompts.Count + 1} rows already hold {total} characters; "
                    + $"a batch's prompts hold at most {maxChars} in all (Batches:MaxTotalChars)");
            }
            prompts.Add(prompt);
        }
        return (prompts, null);
    }

    private static int IndexOf(IReadOnlyList<string> columns, string column)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (string.Equals(columns[i], column, StringComparison.Ordinal))
            {
                return i;
            }
        }
        throw new InvalidOperationException($"Column {column} vanished."); // MissingColumn ran first.
    }

    private sealed record PendingBatch(long Id, string Name, string Template, string SourceSql, string? Instructions, string? Model,
        int Priority, int? MaxSteps, DateTime? Deadline, string? Agent);

    [LoggerMessage(EventId = 4000, Level = LogLevel.Error, Message = "Expanding a template batch failed; trying again later")]
    private partial void LogExpandFailed(Exception exception);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Batch {BatchId} ({Name}) failed: {Error}")]
    private partial void LogBatchFailed(long batchId, string name, string error);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Batch {BatchId} ({Name}): {Count} tasks created from its template")]
    private partial void LogBatchExpanded(long batchId, string name, int count);
}
