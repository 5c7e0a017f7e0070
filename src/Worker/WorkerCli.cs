using AgentWorker.Jobs.Migrations;
using AgentWorker.Jobs.Tools;
using Npgsql;

namespace AgentWorker.Worker;

/// <summary>
/// The verbs: <c>run</c> (default: serve), <c>migrate</c> (apply migrations and exit),
/// <c>reader-role [--apply]</c> (print, or apply with <c>ConnectionStrings__Admin</c>, the SQL of the read-only login).
/// </summary>
internal static class WorkerCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "run";
        var rest = verb == "run" && (args.Length == 0 || args[0].StartsWith('-')) ? args : args[1..];
        switch (verb)
        {
            case "run":
                await WorkerHost.CreateBuilder(rest).Build().RunAsync();
                return 0;
            case "migrate":
                return await MigrateAsync(rest);
            case "reader-role":
                return await ReaderRoleAsync(rest);
            case "probe":
                return await ProbeAsync(rest);
            default:
                await Console.Error.WriteLineAsync($"Unknown verb '{verb}'. Usage: Worker [run | migrate | reader-role [--apply] | probe [url]]");
                return 64;
        }
    }

    /// <summary>Where <c>probe</c> looks without a URL: the container's entry point writes its role's readiness URL here.</summary>
    internal const string ProbeUrlFile = "/tmp/agent-readyz-url";

    /// <summary>
    /// <c>probe [url]</c>: GETs a readiness URL (default: the one in <see cref="ProbeUrlFile"/>, else the worker's
    /// http://127.0.0.1:8080/readyz) and exits 0 when it answers 200, 1 otherwise: a HEALTHCHECK for images without curl.
    /// </summary>
    private static async Task<int> ProbeAsync(string[] args)
    {
        var url = args.FirstOrDefault()
            ?? (File.Exists(ProbeUrlFile) ? (await File.ReadAllTextAsync(ProbeUrlFile)).Trim() : "http://127.0.0.1:8080/readyz");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = await http.GetAsync(new Uri(url));
            await Console.Out.WriteLineAsync($"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            await Console.Error.WriteLineAsync($"{url}: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> MigrateAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddAgentTasks(builder.Configuration);
        using var host = builder.Build();
        var applied = await host.Services.GetRequiredService<MigrationRunner>().MigrateAsync(Migration.Embedded, CancellationToken.None);
        await Console.Out.WriteLineAsync(applied.Count == 0 ? "Schema is up to date." : "Applied: " + string.Join(", ", applied));
        return 0;
    }

    private static async Task<int> ReaderRoleAsync(string[] args)
    {
        var apply = args.Contains("--apply");
        var builder = Host.CreateApplicationBuilder(args.Where(a => a != "--apply").ToArray());
        var tools = new ToolsOptions();
        builder.Configuration.GetSection(ToolsOptions.SectionName).Bind(tools);
        var app = AgentWorkerServiceCollectionExtensions.AppConnectionString(builder.Configuration);
        var database = new NpgsqlConnectionStringBuilder(app).Database
            ?? throw new InvalidOperationException("ConnectionStrings:App names no Database.");
        // The reader lives in the target database; when that is the App database, the App login keeps what the revokes
        // take from PUBLIC (its migrations create plpgsql functions).
        var target = builder.Configuration.GetConnectionString("Target");
        var targetDatabase = string.IsNullOrWhiteSpace(target) ? database : new NpgsqlConnectionStringBuilder(target).Database ?? database;
        var appLogin = targetDatabase == database ? new NpgsqlConnectionStringBuilder(app).Username : null;
        var sql = ReaderRole.CreateSql(tools.ReaderRole, tools.SchemaList(), targetDatabase, tools.ReaderPassword, appLogin, tools.ReaderConnectionLimit);
        if (!apply)
        {
            await Console.Out.WriteLineAsync(sql);
            return 0;
        }
        // The admin login of the target's server, in the target database: the revokes are per database.
        var admin = new NpgsqlConnectionStringBuilder(builder.Configuration.GetConnectionString("Admin") ?? app) { Database = targetDatabase };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        connection.Notice += (_, e) => Console.Error.WriteLine($"{e.Notice.Severity}: {e.Notice.MessageText}");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
        await Console.Out.WriteLineAsync($"Reader login {tools.ReaderRole} can now SELECT in: {tools.Schemas}");
        return 0;
    }
}
