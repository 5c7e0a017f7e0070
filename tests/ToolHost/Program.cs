using AgentWorker;
using AgentWorker.ToolHost;
using Hangfire;
using Npgsql;

// A host that embeds the worker with its public API and adds two tools with side effects (RefundTools), configured as
// the worker is (ConnectionStrings__App, ConnectionStrings__Target, Llm__BaseUrl, Llm__ApiKey, Llm__Model, Worker__...),
// plus ToolHost__RefundMaxDelayMs (default 150): how long a refund may wait after its effect before it returns.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Logging.AddFilter("Npgsql", LogLevel.Warning);
builder.Logging.AddFilter("Hangfire", LogLevel.Warning);

var app = builder.Configuration.GetConnectionString("App")
    ?? throw new InvalidOperationException("ConnectionStrings:App (ConnectionStrings__App) is not set.");
var maxDelay = TimeSpan.FromMilliseconds(builder.Configuration.GetValue("ToolHost:RefundMaxDelayMs", 150));
await using var ledgerSource = NpgsqlDataSource.Create(app);
var ledger = new Ledger(ledgerSource, maxDelay);
builder.Services.AddSingleton(ledger);
builder.Services.AddAgentWorker(builder.Configuration, worker => worker
    .AddTool(RefundTools.RefundAsync, "refund")
    .AddTool(RefundTools.RefundKeyedAsync, "refund_keyed"));
builder.Services.AddHangfire((services, hangfire) => hangfire.UseAgentStorage(builder.Configuration).UseAgentWorker(services));

using var host = builder.Build();
await ledger.CreateAsync(CancellationToken.None);
await host.RunAsync();
