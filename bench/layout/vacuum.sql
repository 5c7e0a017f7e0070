-- The VACUUM that delete-based retention owes afterwards (autovacuum would do it): time, WAL, size after.
\set ON_ERROR_STOP on
set search_path = :"s";
do $$ begin perform public.pg_stat_statements_reset(); end $$;
select extract(epoch from clock_timestamp()) as t0 \gset
vacuum steps;
select extract(epoch from clock_timestamp()) as t1 \gset
insert into layout_results.res (section, variant, metric, value, unit)
select 'retention', :'label', m, v, u from (values
    ('VACUUM steps afterwards', round((:t1 - :t0)::numeric, 2), 's'),
    ('  its WAL', (select round(sum(wal_bytes) / 1048576.0, 1) from public.pg_stat_statements where query like 'vacuum%'), 'MiB'),
    ('steps size after VACUUM (not returned to the OS)', round(pg_total_relation_size('steps') / 1048576.0), 'MiB')
) v(m, v, u);
