namespace AgentWorker.Jobs.Hosting;

/// <summary>
/// <c>ConnectionStrings:App</c> as configured, password included (an <see cref="Npgsql.NpgsqlDataSource"/>'s own
/// connection string leaves it out), for what opens connections outside the App pool: Hangfire's filter.
/// </summary>
internal sealed record AppConnection(string ConnectionString);
