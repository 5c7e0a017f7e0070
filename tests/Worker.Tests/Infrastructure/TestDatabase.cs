using Dapper;
using Npgsql;

namespace AgentWorker.Tests.Infrastructure;

/// <summary>One test class's own database. <see cref="ConnectionString"/> is an admin login.</summary>
public sealed class TestDatabase(PostgresServer server, string name, string connectionString) : IAsyncDisposable
{
    public string Name { get; } = name;

    public string ConnectionString { get; } = connectionString;

    /// <summary>The tools' read-only login on this database.</summary>
    public string ReaderConnectionString { get; } = new NpgsqlConnectionStringBuilder(connectionString)
    {
        Username = PostgresServer.ReaderRole,
        Password = PostgresServer.ReaderPassword,
    }.ConnectionString;

    public NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    /// <summary>Polls <paramref name="sql"/> (a boolean query) until it is true; fails the test, naming the query, after <paramref name="timeout"/>.</summary>
    public Task WaitUntilAsync(string sql, object? parameters = null, TimeSpan? timeout = null) =>
        DatabaseWait.UntilAsync(ConnectionString, sql, parameters, timeout ?? TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => new(server.DropDatabaseAsync(Name));
}
