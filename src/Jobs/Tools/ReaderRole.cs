using System.Text;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The SQL that creates (or repairs) the read-only login the tools use: LOGIN, nothing else, read-only by default,
/// USAGE and SELECT on the allowed schemas only. Identifiers are quoted; the names are validated options.
/// </summary>
public static class ReaderRole
{
    public static string CreateSql(string role, IReadOnlyList<string> schemas, string database, string? password = null)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        var r = Quote(role);
        var sql = new StringBuilder();
        sql.AppendLine($"""
            do $$
            begin
                if not exists (select 1 from pg_catalog.pg_roles where rolname = {Literal(role)}) then
                    create role {r} login;
                end if;
            end $$;
            alter role {r} with login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls;
            """);
        if (password is not null)
        {
            sql.AppendLine($"alter role {r} with password {Literal(password)};");
        }
        sql.AppendLine($"alter role {r} set default_transaction_read_only = on;");
        sql.AppendLine($"grant connect on database {Quote(database)} to {r};");
        foreach (var schema in schemas)
        {
            var s = Quote(schema);
            sql.AppendLine($"grant usage on schema {s} to {r};");
            sql.AppendLine($"grant select on all tables in schema {s} to {r};");
            sql.AppendLine($"alter default privileges in schema {s} grant select on tables to {r};");
        }
        return sql.ToString();
    }

    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
