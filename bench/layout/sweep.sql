-- Retention on the plain layout: the batched delete sweep of finished tasks older than :cutoff, :batch tasks a
-- transaction, steps going by ON DELETE CASCADE. Vars: :s (schema), :label, :cutoff, :batch. Prints "t0 t1" (epoch)
-- for the concurrent workload's window. WAL is this backend's, from public.pg_stat_statements (the concurrent claims write
-- WAL too, so the cluster-wide LSN difference would overstate it).
\set ON_ERROR_STOP on
set search_path = :"s";
do $$ begin perform public.pg_stat_statements_reset(); end $$;
select count(*) as tasks0 from tasks where status in ('succeeded', 'failed', 'cancelled') \gset
select count(*) as steps0 from steps \gset
select pg_total_relation_size('steps') as size0 \gset
select extract(epoch from clock_timestamp()) as t0 \gset
call layout_results.sweep(:'s', :'label', :'cutoff', :batch);
select extract(epoch from clock_timestamp()) as t1 \gset
\echo :t0 :t1
select :tasks0 - count(*) as tasks_gone from tasks where status in ('succeeded', 'failed', 'cancelled') \gset
select :steps0 - count(*) as steps_gone from steps \gset
insert into layout_results.res (section, variant, metric, value, unit)
select 'retention', :'label', m, v, u from (values
    ('tasks deleted', :tasks_gone, 'rows'),
    ('steps deleted (cascade)', :steps_gone, 'rows'),
    ('sweep wall time', round((:t1 - :t0)::numeric, 2), 's'),
    ('tasks deleted per second', round(:tasks_gone / (:t1 - :t0)), 'rows/s'),
    ('steps deleted per second', round(:steps_gone / (:t1 - :t0)), 'rows/s'),
    ('batches', (select count(*) from layout_results.batches where variant = :'label'), ''),
    ('longest batch', (select round(max(ms)::numeric) from layout_results.batches where variant = :'label'), 'ms'),
    ('WAL written by the sweep', (select round(sum(wal_bytes) / 1048576.0, 1) from public.pg_stat_statements
                                   where query like 'call layout_results.sweep%'), 'MiB'),
    ('  of which full-page images', (select sum(wal_fpi) from public.pg_stat_statements
                                      where query like 'call layout_results.sweep%'), 'pages'),
    ('WAL per task deleted', (select round(sum(wal_bytes) / greatest(:tasks_gone, 1)) from public.pg_stat_statements
                               where query like 'call layout_results.sweep%'), 'bytes'),
    ('steps size before sweep', round(:size0 / 1048576.0), 'MiB'),
    ('steps size after sweep (space kept for reuse)', round(pg_total_relation_size('steps') / 1048576.0), 'MiB')
) v(m, v, u);
