using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Tools;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AgentWorker.Bench;

/// <summary>A fresh database per scenario: migrated, with the demo shop data and the reader login.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    public const string ReaderPassword = "bench-reader";
    private readonly string _admin;

    private BenchDatabase(string admin, string name)
    {
        _admin = admin;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        ReaderConnectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Username = "agent_reader", Password = ReaderPassword }
            .ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public string ReaderConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string admin, string root)
    {
        var db = new BenchDatabase(admin, "bench_" + Guid.NewGuid().ToString("N")[..8]);
        await ExecuteAsync(admin, $"create database {db.Name}");
        await using (var dataSource = NpgsqlDataSource.Create(db.ConnectionString))
        {
            await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance, [AgentWorker.Jobs.Hangfire.HangfireStorage.Schema]).MigrateAsync(Migration.Embedded, CancellationToken.None);
        }
        await ExecuteAsync(db.ConnectionString, await File.ReadAllTextAsync(Path.Combine(root, "scripts", "demo-data.sql")));
        await ExecuteAsync(db.ConnectionString, ReaderRole.CreateSql("agent_reader", ["shop"], db.Name, ReaderPassword));
        return db;
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_admin, $"drop database if exists {Name} with (force)");
    }
}
