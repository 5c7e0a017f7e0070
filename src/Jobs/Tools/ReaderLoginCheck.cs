using Dapper;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// Verifies at start that the target login cannot write: not superuser, not a member (even NOINHERIT, which can
/// still SET ROLE) of the server-file roles, no write privilege on any table or column, owns nothing, no CREATE on
/// the database or any schema, and read-only by default (set on the role or the database, not only by our session);
/// no EXECUTE on the functions that act outside the transaction, loop without a cancellation check or fill the lock
/// table, no language for DO blocks, a connection limit, its messages kept out of the server log, and its SQL hidden
/// from other sessions (see <see cref="ReaderRole"/>).
/// </summary>
internal static class ReaderLoginCheck
{
    private static readonly string CheckSql = $$"""
        select array_remove(array[
            case when r.rolsuper then 'is a superuser' end,
            case when r.rolcreaterole then 'can create roles' end,
            case when r.rolcreatedb then 'can create databases' end,
            case when r.rolbypassrls then 'bypasses row-level security' end,
            case when pg_has_role(current_user, 'pg_read_server_files', 'MEMBER') then 'is a member of pg_read_server_files' end,
            case when pg_has_role(current_user, 'pg_write_server_files', 'MEMBER') then 'is a member of pg_write_server_files' end,
            case when pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') then 'is a member of pg_execute_server_program' end,
            case when has_database_privilege(current_database(), 'CREATE') then 'can CREATE in database ' || current_database() end,
            case when not exists (
                select 1 from pg_catalog.pg_db_role_setting s
                 where s.setrole in (r.oid, 0)
                   and s.setdatabase in (0, (select d.oid from pg_catalog.pg_database d where d.datname = current_database()))
                   and 'default_transaction_read_only=on' = any(s.setconfig))
                 then 'is not read-only by default' end
        ], null)
        || coalesce((select array_agg('is a member of role ' || g.rolname || ' (SET ROLE reaches its privileges)' order by g.rolname)
                       from pg_catalog.pg_auth_members m
                       join pg_catalog.pg_roles g on g.oid = m.roleid
                      where m.member = r.oid
                        and g.rolname not in ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')), '{}')
        || coalesce((select array_agg(distinct 'can open other connections with ' || p.proname || ' (writes there escape the read-only transaction)')
                       from pg_catalog.pg_proc p
                      where p.proname in ('dblink_exec', 'dblink_connect', 'dblink_connect_u')
                        and has_function_privilege(p.oid, 'EXECUTE')), '{}')
        || coalesce((select array_agg(distinct 'can EXECUTE ' || f.what)
                       from ({{ReaderRole.ForbiddenFunctionsSql}}) as f
                      where has_function_privilege(f.oid, 'EXECUTE')), '{}')
        || case when r.rolconnlimit < 0
                then array['has no connection limit: queries PostgreSQL cannot cancel (some built-ins loop without checking) and their memory can pile up to the server''s max_connections (an admin runs: alter role ' || quote_ident(r.rolname) || ' connection limit {{ReaderRole.DefaultConnectionLimit}})']
                else '{}'::text[] end
        || case when not exists (
                select 1 from pg_catalog.pg_db_role_setting s
                 where s.setrole = r.oid
                   and ('log_min_messages=fatal' = any(s.setconfig) or 'log_min_messages=panic' = any(s.setconfig)))
                then array['writes its warnings and errors to the server log (one built-in call can write gigabytes; a superuser runs: alter role ' || quote_ident(r.rolname) || ' set log_min_messages = fatal; alter role ' || quote_ident(r.rolname) || ' set log_min_error_statement = panic)']
                else '{}'::text[] end
        || coalesce((select array_agg('has USAGE on language ' || l.lanname || ' (DO blocks: code that can flood the server log)' order by l.lanname)
                       from pg_catalog.pg_language l
                      where l.laninline <> 0 and has_language_privilege(l.oid, 'USAGE')), '{}')
        || case when not exists (
                select 1 from pg_catalog.pg_db_role_setting s
                 where s.setrole = r.oid and 'track_activities=off' = any(s.setconfig))
                then array['shows its SQL to the other sessions of the same login, other tasks included, in pg_stat_activity (a superuser runs: alter role ' || quote_ident(r.rolname) || ' set track_activities = off)']
                else '{}'::text[] end
        || coalesce((select array_agg('can use foreign server ' || s.srvname order by s.srvname)
                       from pg_catalog.pg_foreign_server s
                      where has_server_privilege(s.oid, 'USAGE')), '{}')
        || coalesce((select array_agg('can CREATE in schema ' || n.nspname order by n.nspname)
                       from pg_catalog.pg_namespace n
                      where has_schema_privilege(n.oid, 'CREATE') and n.nspname not like 'pg\_temp%' and n.nspname not like 'pg\_toast%'), '{}')
        || coalesce((select array_agg(distinct 'can write to or owns ' || n.nspname || '.' || c.relname)
                       from pg_catalog.pg_class c
                       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                      where c.relkind in ('r', 'p', 'v', 'm', 'f')
                        and n.nspname not in ('pg_catalog', 'information_schema')
                        and (pg_has_role(c.relowner, 'MEMBER')
                             or has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                             or has_any_column_privilege(c.oid, 'INSERT, UPDATE, REFERENCES'))), '{}')
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
