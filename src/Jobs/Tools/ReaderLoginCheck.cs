using Dapper;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Verifies at start that the target login cannot write: not superuser, no dangerous built-in roles,
/// no write privilege on any visible table, no CREATE on the database or the allowed schemas, read-only default.
/// </summary>
public static class ReaderLoginCheck
{
    private const string CheckSql = """
        select array_remove(array[
            case when r.rolsuper then 'is a superuser' end,
            case when r.rolcreaterole then 'can create roles' end,
            case when r.rolcreatedb then 'can create databases' end,
            case when r.rolbypassrls then 'bypasses row-level security' end,
            case when pg_has_role(current_user, 'pg_read_server_files', 'USAGE') then 'is a member of pg_read_server_files' end,
            case when pg_has_role(current_user, 'pg_write_server_files', 'USAGE') then 'is a member of pg_write_server_files' end,
            case when pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') then 'is a member of pg_execute_server_program' end,
            case when has_database_privilege(current_database(), 'CREATE') then 'can CREATE in database ' || current_database() end,
            case when current_setting('default_transaction_read_only') <> 'on' then 'is not read-only by default' end
        ], null)
        || coalesce((select array_agg('can CREATE in schema ' || n.nspname order by n.nspname)
                       from pg_catalog.pg_namespace n
                      where has_schema_privilege(n.oid, 'CREATE') and n.nspname not like 'pg\_temp%' and n.nspname not like 'pg\_toast%'), '{}')
        || coalesce((select array_agg(distinct 'can write to or owns ' || n.nspname || '.' || c.relname)
                       from pg_catalog.pg_class c
                       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                      where c.relkind in ('r', 'p', 'v', 'm', 'f')
                        and n.nspname not in ('pg_catalog', 'information_schema')
                        and (pg_has_role(c.relowner, 'USAGE')
                             or has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'))), '{}')
          as problems
          from pg_catalog.pg_roles r
         where r.rolname = current_user
        """;

    /// <summary>Returns what is wrong with the login; empty when it is safe to hand to the model.</summary>
    public static async Task<IReadOnlyList<string>> FindProblemsAsync(TargetDatabase target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        await using var connection = await target.DataSource.OpenConnectionAsync(cancellationToken);
        var problems = await connection.ExecuteScalarAsync<string[]>(new CommandDefinition(CheckSql, cancellationToken: cancellationToken));
        return problems ?? [];
    }
}
