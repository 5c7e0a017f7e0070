using System.Text;

namespace AgentWorker.Jobs.Tools;

/// <summary>
/// The SQL that creates (or repairs) the read-only login the tools use: LOGIN, nothing else, read-only by default,
/// USAGE and SELECT on the allowed schemas only; in the target database, no EXECUTE on the functions that act outside
/// the transaction or change settings mid-statement and no procedural language for DO blocks (revoked from PUBLIC,
/// granted back to <c>grantBackTo</c>, the App login, when the target is the App database); role settings that bound
/// memory, parallel workers and temp files, keep its messages out of the server log and hide its SQL from other
/// sessions; and a <c>CONNECTION LIMIT</c>, the only bound on how many of its backends run at once (some built-ins
/// loop without checking for cancellation, and no setting bounds a backend's memory for values). Identifiers are quoted; the names are
/// validated options. Parts that need a superuser are skipped with a WARNING naming them when the admin is not one
/// (the worker's login check then refuses to start, saying what is missing).
/// </summary>
public static class ReaderRole
{
    /// <summary>
    /// Functions of <c>pg_catalog</c> executable by PUBLIC that the reader must not run, every overload (their signatures
    /// change between versions: PostgreSQL 17 added a <c>flush</c> argument to <c>pg_logical_emit_message</c>), and why.
    /// </summary>
    internal static readonly IReadOnlyList<(string Name, string Why)> ForbiddenFunctions =
    [
        ("pg_logical_emit_message", "writes WAL that a rollback does not undo"),
        ("set_config", "changes settings in the middle of a statement"),
        ("xpath", "XPath evaluation that PostgreSQL cannot cancel"),
        ("xpath_exists", "XPath evaluation that PostgreSQL cannot cancel"),
        ("xmlexists", "XPath evaluation that PostgreSQL cannot cancel"),
        ("normalize", "Unicode normalization in loops PostgreSQL cannot cancel"),
        ("is_normalized", "Unicode normalization in loops PostgreSQL cannot cancel"),
        .. new[]
        {
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
            "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared", "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
            "pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all",
        }.Select(name => (name, "advisory locks: taken in bulk they fill the cluster's shared lock table")),
    ];

    /// <summary>Why every function of <c>pg_catalog</c> taking a <c>path</c> or <c>polygon</c> is revoked too.</summary>
    private const string GeometricWhy = "geometric path and polygon functions: loops PostgreSQL cannot cancel";

    /// <summary>Connections the reader role may hold across the whole server unless told otherwise.</summary>
    public const int DefaultConnectionLimit = 16;

    /// <summary>
    /// SQL selecting <c>(oid, what)</c> of every <c>pg_catalog</c> function the reader must not execute: the named
    /// ones and the geometric path and polygon functions (distance, intersection, containment: nested loops over every
    /// point without a cancellation check; rare in analytic SQL).
    /// </summary>
    internal static string ForbiddenFunctionsSql { get; } = $"""
        select p.oid, p.proname || ' (' || f.why || ')' as what
          from pg_catalog.pg_proc p
          join (values {string.Join(", ", ForbiddenFunctions.Select(f => $"({Literal(f.Name)}, {Literal(f.Why)})"))}) as f(name, why)
            on p.proname = f.name
         where p.pronamespace = 'pg_catalog'::regnamespace
        union all
        select p.oid, {Literal("the " + GeometricWhy)}
          from pg_catalog.pg_proc p
         where p.pronamespace = 'pg_catalog'::regnamespace
           and p.proargtypes::oid[] && array['pg_catalog.path'::regtype, 'pg_catalog.polygon'::regtype]::oid[]
        """;

    public static string CreateSql(
        string role, IReadOnlyList<string> schemas, string database, string? password = null, string? grantBackTo = null,
        int connectionLimit = DefaultConnectionLimit)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(connectionLimit);
        var r = Quote(role);
        var sql = new StringBuilder();
        sql.AppendLine($"""
            do $$
            begin
                if not exists (select 1 from pg_catalog.pg_roles where rolname = {Literal(role)}) then
                    create role {r} login;
                end if;
            end $$;
            alter role {r} with login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls
                connection limit {connectionLimit};
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
        // Layer 1 beyond tables (these privileges are per database and held by PUBLIC); before plpgsql is revoked.
        var grantBack = grantBackTo is null ? "" : $"execute format('grant execute on function %s to %I', f, {Literal(grantBackTo)});";
        sql.AppendLine($$"""
            do $$
            declare
                f regprocedure;
            begin
                for f in select distinct forbidden.oid::regprocedure from ({{ForbiddenFunctionsSql}}) as forbidden
                loop
                    execute format('revoke execute on function %s from public', f);
                    {{grantBack}}
                end loop;
            end $$;
            """);
        sql.AppendLine("revoke usage on language plpgsql from public;");
        if (grantBackTo is not null)
        {
            sql.AppendLine($"grant usage on language plpgsql to {Quote(grantBackTo)};");
        }
        // Resource bounds (a SET inside a tool call is rolled back with it; set_config is revoked).
        sql.AppendLine($"alter role {r} set work_mem = '32MB';");
        sql.AppendLine($"alter role {r} set max_parallel_workers_per_gather = 0;");
        // Warnings a built-in raises per row stay out of the worker's connection.
        sql.AppendLine($"alter role {r} set client_min_messages = error;");
        // Superuser-only settings: the reader's SQL stays out of pg_stat_activity for the other sessions of the same
        // login (other tasks); one call's temp files are bounded; and nothing it does reaches the server log (a built-in
        // can raise a WARNING per row, an error's DETAIL can quote a 100 MB value; its SQL is the model's to write).
        sql.AppendLine($$"""
            do $$
            begin
                if (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
                    alter role {{r}} set track_activities = off;
                    alter role {{r}} set temp_file_limit = '1GB';
                    alter role {{r}} set log_min_messages = fatal;
                    alter role {{r}} set log_min_error_statement = panic;
                    alter role {{r}} set log_min_duration_statement = -1;
                    alter role {{r}} set log_temp_files = -1;
                    alter role {{r}} set log_lock_waits = off;
                else
                    raise warning 'needs a superuser: alter role % set track_activities = off; alter role % set temp_file_limit = ''1GB''; alter role % set log_min_messages = fatal; alter role % set log_min_error_statement = panic; and the revokes above',
                        {{Literal(role)}}, {{Literal(role)}}, {{Literal(role)}}, {{Literal(role)}};
                end if;
            end $$;
            """);
        return sql.ToString();
    }

    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    internal static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
