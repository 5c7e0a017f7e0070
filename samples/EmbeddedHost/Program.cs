using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

// Someone else's web app that already runs Hangfire, with agent tasks added. Configuration as the worker reads it:
// ConnectionStrings__App, ConnectionStrings__Target (a read-only login), Llm__BaseUrl, Llm__ApiKey, Llm__Model,
// Tools__Schemas, and the dashboard's Api__Key / Dashboard__Users__* when it listens beyond loopback.
var builder = WebApplication.CreateBuilder(args);

// The worker: migrations on start, then the check that refuses a tools login that could write, then the executor.
builder.Services.AddAgentWorker(builder.Configuration, worker =>
{
    // Custom tools are added here (the tools issue adds the builder's tool registration).
});

// The app's own Hangfire (its storage, its server for its own jobs), with the agent's storage and filters added.
builder.Services.AddHangfire((services, hangfire) => hangfire
    .UseAgentStorage(builder.Configuration)
    .UseAgentWorker(services));
builder.Services.AddHangfireServer();

// The REST API and the dashboard's agent pages; readiness as health checks.
builder.Services.AddAgentDashboard(builder.Configuration);
builder.Services.AddHealthChecks().AddAgentWorkerChecks();

var app = builder.Build();
app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
app.MapAgentApi();
app.UseAgentDashboard("/hangfire");
app.MapGet("/", () => "EmbeddedHost: the agent API at /api/tasks, the dashboard at /hangfire, readiness at /readyz.");
app.Run();
