using AgentWorker.Jobs.Batches;
using AgentWorker.Jobs.Tasks;
using AgentWorker.Tests.Infrastructure;
using Npgsql;

namespace AgentWorker.Tests.Batches;

/// <summary><see cref="IBatchClient"/>: the SQL API's batches and schedules as .NET types, refusals naming the field.</summary>
public sealed class BatchClientTests(PostgresServer server) : IAsyncLifetime
{
    private TestDatabase _db = null!; // Set in InitializeAsync.
    private NpgsqlDataSource _source = null!; // Set in InitializeAsync.
    private BatchClient _client = null!; // Set in InitializeAsync.

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _db = await server.CreateDatabaseAsync();
        _source = NpgsqlDataSource.Create(_db.ConnectionString);
        _client = new BatchClient(_source, TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Batch_CreateReadListCancelAndResults()
    {
        var id = await _client.CreateAsync(new BatchRequest { Name = "c#", Prompts = ["a", "b"], MaxSteps = 4, FollowUp = "sum" }, Ct);

        var batch = (await _client.GetAsync(id, Ct))!;
        Assert.Equal(("running", 2, 2, 0.0), (batch.Status, batch.Total, batch.Queued, batch.Progress));
        Assert.Contains(await _client.ListAsync("running", 10, null, Ct), b => b.Id == id);
        Assert.Equal(["a", "b"], (await _client.ResultsAsync(id, Ct))!.Select(r => r.Prompt));
        Assert.Null(await _client.ResultsAsync(987654321, Ct));
        Assert.Equal(BatchCancelOutcome.Cancelled, await _client.CancelAsync(id, Ct));
        Assert.Equal(BatchCancelOutcome.AlreadyFinished, await _client.CancelAsync(id, Ct));
        Assert.Equal(BatchCancelOutcome.NotFound, await _client.CancelAsync(987654321, Ct));
        var cancelled = (await _client.GetAsync(id, Ct))!;
        Assert.Equal(("cancelled", 2, 1.0), (cancelled.Status, cancelled.Cancelled, cancelled.Progress));
    }

    [Fact]
    public async Task Batch_Refusals_NameTheField()
    {
        var steps = await Assert.ThrowsAsync<TaskValidationException>(() =>
            _client.CreateAsync(new BatchRequest { Name = "x", Prompts = ["a"], MaxSteps = 0 }, Ct));
        var nul = await Assert.ThrowsAsync<TaskValidationException>(() =>
            _client.CreateAsync(new BatchRequest { Name = "x", Prompts = ["a", "b\0c"] }, Ct));
        var blank = await Assert.ThrowsAsync<TaskValidationException>(() =>
            _client.CreateAsync(new BatchRequest { Name = "x", Prompts = ["a", " "] }, Ct));

        Assert.Equal("max_steps", steps.Field);
        Assert.Equal("prompts", nul.Field);
        Assert.Equal("prompts", blank.Field);
        Assert.Equal(0L, await _db.ScalarAsync<long>("select count(*) from agent.batches"));
    }

    [Fact]
    public async Task Schedule_UpsertReadTriggerDelete()
    {
        var schedule = new ScheduleRequest { Cron = "0 2 * * *", TimeZone = "Europe/Berlin", Prompts = ["a"], DeadlineAfter = TimeSpan.FromHours(2) };

        Assert.Equal("created", await _client.UpsertScheduleAsync("nightly", schedule, Ct));
        Assert.Equal("unchanged", await _client.UpsertScheduleAsync("nightly", schedule, Ct));
        var stored = (await _client.GetScheduleAsync("nightly", Ct))!;
        Assert.Equal(("Europe/Berlin", TimeSpan.FromHours(2), "sql", (long?)null), (stored.TimeZone, stored.DeadlineAfter, stored.DefinedIn, stored.LastBatchId));
        var batch = await _client.TriggerScheduleAsync("nightly", Ct);
        Assert.Equal(batch, (await _client.GetScheduleAsync("nightly", Ct))!.LastBatchId);
        Assert.Null(await _client.TriggerScheduleAsync("nope", Ct));
        var zone = await Assert.ThrowsAsync<TaskValidationException>(() =>
            _client.UpsertScheduleAsync("other", schedule with { TimeZone = "Mars/Base" }, Ct));
        Assert.Equal("time_zone", zone.Field);
        Assert.Single(await _client.ListSchedulesAsync(Ct));
        Assert.True(await _client.DeleteScheduleAsync("nightly", Ct));
        Assert.False(await _client.DeleteScheduleAsync("nightly", Ct));
    }
}
