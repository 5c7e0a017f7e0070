-- Results of a run (schema layout_results) and the batched delete sweep. Run once per run, before the variants.
\set ON_ERROR_STOP on
create extension if not exists pg_stat_statements schema public;
drop schema if exists layout_results cascade;
create schema layout_results;
create table layout_results.res (
    ord     serial,
    section text,
    variant text,
    metric  text,
    value   numeric,
    unit    text
);
create table layout_results.batches (variant text, batch_no int, tasks int, ms float8);

-- The retention sweep of migrations-as-today: finished tasks older than the cutoff, p_batch at a time, one transaction
-- per batch; ON DELETE CASCADE removes their steps. Per-batch durations go to layout_results.batches at the end.
create procedure layout_results.sweep(p_schema text, p_variant text, p_cutoff timestamptz, p_batch int)
language plpgsql as $$
declare
    n  int;
    t0 timestamptz;
    ms float8[] := '{}';
    ns int[] := '{}';
begin
    loop
        t0 := clock_timestamp();
        execute format(
            'delete from %1$I.tasks where id in (select id from %1$I.tasks'
            ' where status in (''succeeded'', ''failed'', ''cancelled'') and finished_at < $1'
            ' order by id limit $2 for update skip locked)', p_schema) using p_cutoff, p_batch;
        get diagnostics n = row_count;
        commit;
        exit when n = 0;
        ms := ms || extract(epoch from clock_timestamp() - t0)::float8 * 1000;
        ns := ns || n;
    end loop;
    insert into layout_results.batches
    select p_variant, i, ns[i], ms[i] from generate_subscripts(ms, 1) i;
    commit;
end $$;

-- EXPLAIN ANALYZE of the checkpoint read for n random tasks (fixed seed): mean planning and execution time, and how
-- many relations (steps or its partitions) were actually scanned per read. Literal ids, as a custom plan sees them.
create function layout_results.plan_stats(p_schema text, p_pruned bool, n int, ntasks int, t0 float8, span float8,
    out planning_ms float8, out execution_ms float8, out scanned float8)
language plpgsql as $$
declare
    j   jsonb;
    tid int;
    q   text;
begin
    planning_ms := 0; execution_ms := 0; scanned := 0;
    perform setseed(0.42);
    for i in 1 .. n loop
        tid := 1 + floor(random() * ntasks)::int;
        q := format('select seq, kind, items::text from %I.steps where task_id = %s', p_schema, tid);
        if p_pruned then
            q := q || format(' and started_at >= to_timestamp(%s)', t0 + floor((tid - 1) * span / ntasks) - 2);
        end if;
        execute 'explain (analyze, format json) ' || q || ' order by seq' into j;
        planning_ms  := planning_ms + (j -> 0 ->> 'Planning Time')::float8 / n;
        execution_ms := execution_ms + (j -> 0 ->> 'Execution Time')::float8 / n;
        scanned := scanned + jsonb_array_length(jsonb_path_query_array(j,
                       'strict $.**? (exists (@."Relation Name") && @."Actual Loops" > 0)'))::float8 / n;
    end loop;
end $$;
