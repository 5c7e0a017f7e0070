-- Loads the staged history into variant schema :s (created by schema.sql) and records load time and size.
-- Steps go in in started_at order, as the worker writes them (a task's steps interleave with other tasks').
\set ON_ERROR_STOP on
set search_path = :"s";
insert into tasks (id, status, prompt, created_at, started_at, finished_at, result_text, input_tokens, cached_tokens,
                   output_tokens, reasoning_tokens, attempt, run_at)
overriding system value
select id, status, prompt, created_at, started_at, finished_at, result_text, input_tokens, cached_tokens,
       output_tokens, reasoning_tokens, 1, created_at
  from layout_stage.tasks order by id;
select setval(pg_get_serial_sequence(:'s' || '.tasks', 'id'), (select max(id) from tasks));
checkpoint;

select clock_timestamp() as t0 \gset
insert into steps (task_id, attempt, seq, kind, started_at, finished_at, duration_ms, ttft_ms, transport, socket_id,
                   socket_reused, chained, response_id, input_tokens, cached_tokens, output_tokens, reasoning_tokens,
                   tool_name, call_id, arguments, row_count, truncated, error, items, attempts, recovery,
                   request_bytes, model_ms)
select task_id, attempt, seq, kind, started_at, finished_at, duration_ms, ttft_ms, transport, socket_id,
       socket_reused, chained, response_id, input_tokens, cached_tokens, output_tokens, reasoning_tokens,
       tool_name, call_id, arguments, row_count, truncated, error, items, attempts, recovery,
       request_bytes, model_ms
  from layout_stage.steps order by started_at, task_id, seq;
insert into layout_results.res (section, variant, metric, value, unit)
select 'load', :'s', 'steps insert (one statement, ' || (select count(*) from steps) || ' rows)',
       round(extract(epoch from clock_timestamp() - :'t0'::timestamptz)::numeric, 2), 's';

-- Queued tasks for the concurrent claim workload of the retention runs (no steps; not timed).
insert into tasks (status, prompt, created_at, run_at)
select 'queued', 'queued prompt ' || g, timestamptz '2025-01-31', timestamptz '2025-01-31'
  from generate_series(1, :queued) g;
vacuum (analyze) tasks;
vacuum (analyze) steps;
checkpoint;

-- Sizes: steps heap, its TOAST, its indexes (over all partitions when partitioned).
with rels as (
    select c.oid, c.reltoastrelid
      from pg_class c
     where c.relkind = 'r'
       and (c.oid = (:'s' || '.steps')::regclass
            or c.oid in (select relid from pg_partition_tree((:'s' || '.steps')::regclass) where isleaf))),
sz as (
    select sum(pg_relation_size(oid)) as heap,
           sum(pg_total_relation_size(reltoastrelid)) as toast,
           sum(pg_indexes_size(oid)) as idx,
           sum(pg_total_relation_size(oid)) as total
      from rels),
n as (select count(distinct task_id) as tasks from steps)
insert into layout_results.res (section, variant, metric, value, unit)
select 'size', :'s', m, v, u from sz, n, lateral (values
    ('steps total (heap+TOAST+indexes)', round(total / 1048576.0, 1), 'MiB'),
    ('steps total per task', round(total / tasks), 'bytes'),
    ('  heap per task', round(heap / tasks), 'bytes'),
    ('  TOAST per task', round(toast / tasks), 'bytes'),
    ('  indexes per task', round(idx / tasks), 'bytes'),
    ('items uncompressed (jsonb) per task',
     (select round(sum(pg_column_size(items)) / tasks) from layout_stage.steps), 'bytes'),
    ('items as JSON text per task', (select round(sum(octet_length(items::text)) / tasks) from layout_stage.steps), 'bytes'),
    ('items as stored (pg_column_size) per task', (select round(sum(pg_column_size(items)) / tasks) from steps), 'bytes')
) v(m, v, u);
-- stored / uncompressed per kind of step: model steps are mostly random base64, tool steps tabular text
insert into layout_results.res (section, variant, metric, value, unit)
select 'size', :'s', 'items stored/uncompressed, ' || k.kind || ' steps' || case when k.kind = 'model' then ' (reasoning + call or answer)' else ' (tabular output)' end,
       round(k.stored::numeric / u.raw, 3), ''
  from (select kind, sum(pg_column_size(items)) as stored from steps group by kind) k
  join (select kind, sum(pg_column_size(items)) as raw from layout_stage.steps group by kind) u using (kind)
 order by k.kind;
