-- Retention on the partitioned layout, same policy as the plain sweep (finished tasks older than :cutoff go).
-- A daily partition of steps can go only when every task with a step in it is past retention: a task whose steps
-- span partitions (resumed a day later, or just running over midnight) and that is not past retention pins the
-- partition it started in and every later one. So:
--   1. safety check: the earliest partition holding a step of a task not past retention -> droppable prefix ends there;
--   2. DETACH PARTITION ... CONCURRENTLY + DROP TABLE for the droppable prefix;
--   3. the batched task delete (1000 a batch), in two parts: 3a the tasks whose steps were all in the dropped
--      partitions (task rows only; each cascade still probes every remaining partition's (task_id, seq, started_at)
--      index), 3b the other past-retention tasks, whose steps sit in the pinned partitions and go row by row by cascade
--      (skipping 3b means retention lags until the pinning tasks age out too).
-- Vars: :s, :label, :cutoff. Prints "t0 t1" (epoch) for the concurrent workload's window.
\set ON_ERROR_STOP on
set search_path = :"s";
select count(*) as parts0 from pg_inherits where inhparent = 'steps'::regclass \gset
-- hazard facts (not timed): tasks whose steps sit in more than one partition
select count(*) as spanning,
       count(*) filter (where resumed) as spanning_resumed
  from (select task_id, count(distinct tableoid) as parts, max(attempt) > 1 as resumed
          from steps group by task_id) x where parts > 1 \gset
select count(*) filter (where status in ('succeeded', 'failed', 'cancelled')) as tasks0 from tasks \gset
select count(*) as steps0 from steps \gset
do $$ begin perform public.pg_stat_statements_reset(); end $$;

-- 1. safety check
select extract(epoch from clock_timestamp()) as c0 \gset
select coalesce(min(date_trunc('day', s.started_at)), :'cutoff'::timestamptz) as cprime,
       count(distinct s.task_id) as blockers
  from steps s join tasks t on t.id = s.task_id
 where s.started_at < :'cutoff'
   and not (t.status in ('succeeded', 'failed', 'cancelled') and t.finished_at < :'cutoff') \gset
select extract(epoch from clock_timestamp()) as c1 \gset
select count(*) as in_dropped from steps where started_at < :'cprime' \gset
select count(*) as droppable from generate_series(timestamptz '2025-01-01', :'cprime'::timestamptz - interval '1 day',
                                                  interval '1 day') \gset
select count(*) as candidates from generate_series(timestamptz '2025-01-01', :'cutoff'::timestamptz - interval '1 day',
                                                   interval '1 day') \gset

-- 2. detach + drop the droppable prefix
select extract(epoch from clock_timestamp()) as t0 \gset
select format('alter table %I.steps detach partition %I.%I concurrently', :'s', :'s', 'steps_' || to_char(d, 'YYYYMMDD'))
  from generate_series(timestamptz '2025-01-01', :'cprime'::timestamptz - interval '1 day', interval '1 day') d
\gexec
-- What the DROP of a detached partition locks: the detached table keeps its FK to tasks, and dropping it drops the FK's
-- triggers on tasks (looked at in a transaction that is rolled back, then dropped for real below).
select :droppable > 0 as any_drop \gset
\if :any_drop
begin;
drop table :"s".steps_20250101;
select count(*) as drop_locks_tasks from pg_locks
 where pid = pg_backend_pid() and relation = 'tasks'::regclass and mode = 'AccessExclusiveLock' \gset
rollback;
\else
\set drop_locks_tasks null
\endif
select format('drop table %I.%I', :'s', 'steps_' || to_char(d, 'YYYYMMDD'))
  from generate_series(timestamptz '2025-01-01', :'cprime'::timestamptz - interval '1 day', interval '1 day') d
\gexec
select extract(epoch from clock_timestamp()) as t1 \gset

select coalesce(sum(wal_bytes), 0) as wal_drop, coalesce(max(max_exec_time), 0) as longest_drop,
       coalesce(sum(total_exec_time) filter (where query ~* '^alter table .* detach'), 0) as detach_ms,
       coalesce(sum(total_exec_time) filter (where query ~* '^drop table'), 0) as drop_ms
  from public.pg_stat_statements where query ~* '^(alter table .* detach|drop table)' \gset

-- 3a. the tasks whose steps were all in the dropped partitions (finished before the first pinned one): task rows only,
--     though each cascade still probes every remaining partition
do $$ begin perform public.pg_stat_statements_reset(); end $$;
call layout_results.sweep(:'s', :'label' || ' / 3a', :'cprime', 1000);
select extract(epoch from clock_timestamp()) as t2 \gset
select coalesce(sum(wal_bytes), 0) as wal_3a from public.pg_stat_statements where query like 'call layout_results.sweep%' \gset
select :tasks0 - count(*) filter (where status in ('succeeded', 'failed', 'cancelled')) as tasks_3a from tasks \gset
-- 3b. the rest of the past-retention tasks: their steps in the pinned partitions go row by row, by cascade
do $$ begin perform public.pg_stat_statements_reset(); end $$;
call layout_results.sweep(:'s', :'label' || ' / 3b', :'cutoff', 1000);
select extract(epoch from clock_timestamp()) as t3 \gset
select coalesce(sum(wal_bytes), 0) as wal_3b from public.pg_stat_statements where query like 'call layout_results.sweep%' \gset
\echo :t0 :t3

select :tasks0 - count(*) filter (where status in ('succeeded', 'failed', 'cancelled')) as tasks_gone from tasks \gset
select :steps0 - count(*) as steps_gone from steps \gset
-- correctness: every remaining finished task still has all 9 of its steps
select count(*) as broken from tasks t left join (select task_id, count(*) as n from steps group by task_id) s
    on s.task_id = t.id
 where t.status in ('succeeded', 'failed', 'cancelled') and coalesce(s.n, 0) <> 9 \gset

insert into layout_results.res (section, variant, metric, value, unit)
select 'retention', :'label', m, v, u from (values
    ('partitions before', :parts0, ''),
    ('tasks whose steps span partitions', :spanning, ''),
    ('  of which resumed (a second attempt 1-3 days later; the rest ran over midnight)', :spanning_resumed, ''),
    ('safety check (earliest partition pinned by a live task)', round(((:c1 - :c0) * 1000)::numeric), 'ms'),
    ('tasks pinning partitions before the cutoff', :blockers, ''),
    ('partitions older than the cutoff', :candidates, ''),
    ('partitions dropped (the rest are pinned)', :droppable, ''),
    ('detach concurrently, all dropped partitions', round(:detach_ms::numeric, 1), 'ms'),
    ('drop table, all dropped partitions', round(:drop_ms::numeric, 1), 'ms'),
    ('DROP of a detached partition takes AccessExclusiveLock on tasks (1 = yes)', :drop_locks_tasks, ''),
    ('longest single detach or drop', round(:longest_drop), 'ms'),
    ('WAL of detach + drop', round(:wal_drop / 1024.0, 1), 'KiB'),
    ('steps removed by dropping partitions', :in_dropped, 'rows'),
    ('3a: tasks of the dropped partitions deleted', :tasks_3a, 'rows'),
    ('3a: their delete sweep (batches of 1000)', round((:t2 - :t1)::numeric, 2), 's'),
    ('3a: its WAL', round(:wal_3a / 1048576.0, 1), 'MiB'),
    ('3a: WAL per task (drop + task rows)', round((:wal_drop + :wal_3a) / greatest(:tasks_3a, 1)), 'bytes'),
    ('3b: tasks in pinned partitions deleted (steps by cascade)', :tasks_gone - :tasks_3a, 'rows'),
    ('3b: steps deleted by cascade', :steps_gone - :in_dropped, 'rows'),
    ('3b: its delete sweep (batches of 1000)', round((:t3 - :t2)::numeric, 2), 's'),
    ('3b: its WAL', round(:wal_3b / 1048576.0, 1), 'MiB'),
    ('3b: WAL per task', round(:wal_3b / greatest(:tasks_gone - :tasks_3a, 1)), 'bytes'),
    ('longest task-delete batch', (select round(max(ms)::numeric) from layout_results.batches
                                   where variant like :'label' || ' / 3_'), 'ms'),
    ('tasks deleted (3a + 3b)', :tasks_gone, 'rows'),
    ('steps deleted (dropped + cascade)', :steps_gone, 'rows'),
    ('retention wall time (drop + 3a + 3b)', round((:t3 - :t0)::numeric, 2), 's'),
    ('steps deleted per second (overall)', round(:steps_gone / (:t3 - :t0)), 'rows/s'),
    ('WAL per task deleted (overall)', round((:wal_drop + :wal_3a + :wal_3b) / greatest(:tasks_gone, 1)), 'bytes'),
    ('finished tasks left with missing steps (must be 0)', :broken, '')
) v(m, v, u);
