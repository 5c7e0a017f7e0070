using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentWorker.Jobs.Hosting;
using AgentWorker.Jobs.Llm;
using AgentWorker.Tests.Infrastructure;
using AgentWorker.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentWorker.Tests.EndToEnd;

/// <summary><c>/healthz</c> and <c>/readyz</c> on the worker (<c>Health__Urls</c>) and the dashboard, and what makes them not ready.</summary>
[Collection(AgentEnvironmentGroup.Name)]
public sealed class HealthTests(AgentEnvironment env) : IClassFixture<AgentEnvironment>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Worker_Readyz_ChecksPostgresMigrationsModelEndpointAndReaderLogin()
    {
        var url = env.WorkerServices.GetRequiredService<HealthServer>().Urls.Single();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        using var live = await http.GetAsync("/healthz", Ct);
        using var ready = await http.GetAsync("/readyz", Ct);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = (await ready.Content.ReadFromJsonAsync<JsonObject>(Ct))!;
        Assert.Equal("ready", (string?)body["status"]);
        Assert.Equal(["postgres", "migrations", "model_endpoint", "reader_login"], body["checks"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.All(body["checks"]!.AsArray(), c => Assert.True((bool)c!["ok"]!, (string?)c["detail"]));
    }

    [Fact]
    public async Task Dashboard_Readyz_ChecksPostgresAndMigrations()
    {
        using var http = new HttpClient { BaseAddress = env.DashboardUrl };

        var body = (await http.GetFromJsonAsync<JsonObject>("/readyz", Ct))!;

        Assert.Equal("ready", (string?)body["status"]);
        Assert.Equal(["postgres", "migrations"], body["checks"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Equal("ok", await http.GetStringAsync("/healthz", Ct));
    }

    [Fact]
    public async Task Readiness_AModelEndpointThatRefusesAndAMissingMigration_AreNotReady_NamingEach()
    {
        await using var source = NpgsqlDataSource.Create(env.Database.ConnectionString);
        var closed = new ModelEndpointCheck(Options.Create(new LlmOptions { BaseUrl = new Uri("http://127.0.0.1:1/v1") }));
        var readiness = new Readiness(source, [closed]);
        var last = await env.Database.ScalarAsync<string>("select max(name) from agent.schema_migrations");
        var checksum = await env.Database.ScalarAsync<string>("select checksum from agent.schema_migrations where name = @last", new { last });
        await env.Database.ScalarAsync<object>("delete from agent.schema_migrations where name = @last", new { last });
        IReadOnlyList<ReadinessCheck> checks;
        try
        {
            checks = await readiness.CheckAsync(Ct);
        }
        finally
        {
            await env.Database.ScalarAsync<object>("insert into agent.schema_migrations (name, checksum) values (@last, @checksum)", new { last, checksum });
        }

        Assert.True(checks.Single(c => c.Name == "postgres").Ok);
        Assert.Equal($"not applied: {last}", checks.Single(c => c.Name == "migrations").Detail);
        var model = checks.Single(c => c.Name == "model_endpoint");
        Assert.False(model.Ok);
        Assert.False(string.IsNullOrEmpty(model.Detail));
    }

    [Fact]
    public async Task Probe_ExitsZeroOnlyWhenReadyzAnswers200()
    {
        var url = env.WorkerServices.GetRequiredService<HealthServer>().Urls.Single();

        Assert.Equal(0, await WorkerCli.RunAsync(["probe", url + "/readyz"]));
        Assert.Equal(1, await WorkerCli.RunAsync(["probe", url + "/nope"]));
        Assert.Equal(1, await WorkerCli.RunAsync(["probe", "http://127.0.0.1:1/readyz"]));
    }
}
