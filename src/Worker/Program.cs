using AgentWorker.Worker;
using Serilog;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();
try
{
    return await WorkerCli.RunAsync(args);
}
catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException
    or AgentWorker.Jobs.Migrations.MigrationChecksumException or Npgsql.NpgsqlException)
{
    Log.Fatal("Worker cannot start: {Reason}", ex.Message);
    return 2;
}
finally
{
    await Log.CloseAndFlushAsync();
}
