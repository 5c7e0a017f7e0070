using AgentWorker.Jobs.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Testcontainers.PostgreSql;

[assembly: AssemblyFixture(typeof(AgentWorker.Tests.Infrastructure.PostgresServer))]

namespace AgentWorker.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of the test run: <c>WORKER_TEST_POSTGRES</c> (an admin connection string, set by
/// scripts/test), else a Testcontainers container where Docker runs. Without either, tests that need it are
/// skipped locally and fail when <c>CI=true</c>. A template database is migrated once (with the demo shop data and
/// the reader role); each test class clones it.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string ReaderRole = "agent_reader";
    public const string ReaderPassword = "reader-test-password";
    private readonly string _template = "worker_template_" + Guid.NewGuid().ToString("N")[..8];
    private PostgreSqlContainer? _container;
    private string? _unavailable;

    /// <summary>Admin connection string to the <c>postgres</c> database.</summary>
    public string AdminConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("WORKER_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            AdminConnectionString = configured;
        }
        else
        {
            try
            {
                _container = new PostgreSqlBuilder("postgres:15-alpine").Build();
                await _container.StartAsync();
                AdminConnectionString = _container.GetConnectionString();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _unavailable = "No PostgreSQL for tests: WORKER_TEST_POSTGRES is not set and Docker is unavailable ("
                    + ex.GetType().Name + "). Run the tests with scripts/test, which starts a local server.";
                if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(_unavailable, ex);
                }
                return;
            }
        }
        await CreateTemplateAsync();
    }

    private async Task CreateTemplateAsync()
    {
        await ExecuteAsync(AdminConnectionString, $"create database {_template}");
        // No pooling: a connection left open to the template would make every CREATE DATABASE ... TEMPLATE fail.
        var template = new NpgsqlConnectionStringBuilder(ConnectionStringFor(_template)) { Pooling = false }.ConnectionString;
        await using (var dataSource = NpgsqlDataSource.Create(template))
        {
            await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance, [AgentWorker.Jobs.Hangfire.HangfireStorage.Schema]).MigrateAsync(Migration.Embedded, CancellationToken.None);
        }
        await ExecuteAsync(template, await File.ReadAllTextAsync(AgentWorker.Testing.Repository.File("scripts/demo-data.sql")));
        await ExecuteAsync(template, ReaderRole_Sql(_template));
    }

    /// <summary>
    /// The connection limit of the tests' reader role: one role serves every test class running at once (a role is the
    /// server's), so more than one production worker would take.
    /// </summary>
    public const int ReaderConnectionLimit = 96;

    private static string ReaderRole_Sql(string database) =>
        AgentWorker.Jobs.Tools.ReaderRole.CreateSql(ReaderRole, ["shop"], database, ReaderPassword, connectionLimit: ReaderConnectionLimit);

    /// <summary>A fresh database cloned from the migrated template, dropped when disposed.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync(bool migrated = true)
    {
        if (_unavailable is not null)
        {
            Assert.Skip(_unavailable);
        }
        var name = "t_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(AdminConnectionString, migrated ? $"create database {name} template {_template}" : $"create database {name}");
        return new TestDatabase(this, name, ConnectionStringFor(name));
    }

    internal string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database, Pooling = true, MaxPoolSize = 50 }.ConnectionString;

    internal async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(AdminConnectionString, $"drop database if exists {name} with (force)");
    }

    internal static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_unavailable is null && AdminConnectionString.Length > 0)
        {
            await DropDatabaseAsync(_template);
        }
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}
