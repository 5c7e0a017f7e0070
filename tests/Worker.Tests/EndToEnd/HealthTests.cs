using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentWorker.Tests.Infrastructure;
using AgentWorker.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

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
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:App"] = env.Database.ConnectionString,
            ["Llm:BaseUrl"] = "http://127.0.0.1:1/v1",
            ["Llm:Model"] = "m",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddHealthChecks().AddAgentWorkerChecks();
        services.AddAgentWorker(config);
        await using var provider = services.BuildServiceProvider();
        var last = await env.Database.ScalarAsync<string>("select max(name) from agent.schema_migrations");
        var checksum = await env.Database.ScalarAsync<string>("select checksum from agent.schema_migrations where name = @last", new { last });
        await env.Database.ScalarAsync<object>("delete from agent.schema_migrations where name = @last", new { last });
        HealthReport report;
        try
        {
            report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Name != "reader_login", Ct);
        }
        finally
        {
            await env.Database.ScalarAsync<object>("insert into agent.schema_migrations (name, checksum) values (@last, @checksum)", new { last, checksum });
        }

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal(["postgres", "migrations", "model_endpoint"], report.Entries.Keys);
        Assert.Equal(HealthStatus.Healthy, report.Entries["postgres"].Status);
        Assert.Equal($"not applied: {last}", report.Entries["migrations"].Description);
        var model = report.Entries["model_endpoint"];
        Assert.Equal(HealthStatus.Unhealthy, model.Status);
        Assert.False(string.IsNullOrEmpty(model.Description));
        var json = JsonNode.Parse(AgentHealthChecks.ToJson(report))!;
        Assert.Equal("not_ready", (string?)json["status"]);
        Assert.Equal([true, false, false], json["checks"]!.AsArray().Select(c => (bool)c!["ok"]!));
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
