-- Generates the synthetic history once, into schema layout_stage, so every layout variant loads the very same rows.
-- psql variables: :tasks (finished tasks), :days (history length; tasks are spread evenly over it).
--
-- A task is 9 steps: model, tool, model, tool, model, tool, model, tool, model (final answer).
--   model step items: a reasoning item (~3-4 KB of random base64: incompressible, like real encrypted_content)
--                     + a function_call (small JSON arguments holding SQL), or on the last turn a message item with
--                     a ~1.5-2.5 KB English-like answer (compressible).
--   tool step items:  one function_call_output whose output is 2-8 KB of psql-style tabular text (compressible).
-- Content comes from pools of distinct values picked per step by a hash. TOAST compresses each value on its own, so
-- reusing a pool value in other rows changes neither the stored size nor the compression ratio of any row.
-- 0.5% of tasks are "resumed": their steps 6-9 are a second attempt 1-3 days later (they span daily partitions).
\set ON_ERROR_STOP on
create extension if not exists pgcrypto schema public;
drop schema if exists layout_stage cascade;
create schema layout_stage;
set search_path = layout_stage;
-- a non-negative hash (abs() of hashint8 can overflow)
create function h(bigint) returns int language sql immutable as $$ select hashint8($1) & 2147483647 $$;

create table words (i int primary key, w text);
insert into words
select row_number() over (), w from unnest(string_to_array(
  'the a of to and in is that for it on with as was by this be are from at or an which have not has its can been '
  'query table rows result results returned shows total revenue orders customers region month week daily average '
  'median increase decrease compared previous period growth percent higher lower than most least top bottom each '
  'per during between across data report suggests notable trend because driven mainly by segment enterprise small '
  'business accounts churn retention cohort active users sessions conversion rate pipeline forecast quarter year '
  'however therefore overall while also only about roughly nearly almost exactly count sum values missing null '
  'filtered excluded included latest earliest first last second third following summary breakdown detail note that '
  'we i you they should could would may might will further investigate recommend check confirm next step steps', ' ')) w;

-- ~3-4 KB of base64 without line breaks: the incompressible part.
create table pool_reasoning (i int primary key, v text);
insert into pool_reasoning
select g, replace(encode(public.gen_random_bytes(1000) || public.gen_random_bytes(1000) || public.gen_random_bytes(400 + (random() * 600)::int),
                         'base64'), E'\n', '')
  from generate_series(1, 3000) g;

-- English-like answers of ~1.5-2.5 KB from a 190-word vocabulary in sentences (initcap: every word capitalised).
create table pool_message (i int primary key, v text);
insert into pool_message
select g, string_agg(s, ' ')
  from generate_series(1, 2000) g
  cross join lateral (
    select initcap(string_agg(w.w, ' ' order by k)) || '.' as s, sn
      from generate_series(1, 25 + (g % 16)) sn
      cross join lateral generate_series(1, 8 + ((sn * 7 + g) % 12)) k
      join words w on w.i = 1 + (h((g::bigint * 100003 + sn * 101 + k)) % 190)
     group by sn) x
 group by g;

-- psql-style result tables of 2-8 KB: header, rule, rows mixing ids, dates, repeated categories and random numbers.
create table pool_table (i int primary key, v text);
insert into pool_table
select g,
       ' order_id | customer            | region  | status    |   amount | qty | created_at' || E'\n' ||
       '----------+---------------------+---------+-----------+----------+-----+---------------------' || E'\n' ||
       string_agg(format('%9s | %-19s | %-7s | %-9s | %8s | %3s | %s',
                         100000 + g * 97 + r,
                         (array['acme-eu-west','globex-us','initech','umbrella-apac','hooli','stark-industries',
                                'wayne-enterprises','wonka-foods','cyberdyne','tyrell-corp'])[1 + (h((g * 7919 + r)) % 10)],
                         (array['EU','US','APAC','LATAM'])[1 + (h((g * 104729 + r)) % 4)],
                         (array['shipped','pending','cancelled','returned','delivered'])[1 + (h((g::bigint * 15485863 + r)) % 5)],
                         to_char(random() * 20000, 'FM99990.00'),
                         (random() * 120)::int,
                         to_char(timestamptz '2024-01-01' + random() * interval '365 days', 'YYYY-MM-DD HH24:MI:SS')),
                  E'\n' order by r) || E'\n' || format('(%s rows)', max(r))
  from generate_series(1, 6000) g
  cross join lateral generate_series(1, 22 + (g % 68)) r   -- 22-89 rows of ~95 bytes: 2-8.5 KB
 group by g;

create table pool_sql (i int primary key, v text);
insert into pool_sql
select g, format('select region, status, count(*) as orders, sum(amount) as revenue from sales.orders where created_at >= ''2024-%s-01'' and customer like ''%s%%'' group by 1, 2 order by revenue desc limit %s',
                 lpad((1 + g % 12)::text, 2, '0'), (array['acme','globex','initech','hooli','wonka'])[1 + g % 5], 20 + g % 80)
  from generate_series(1, 2000) g;

create table tasks (
    id bigint primary key, status text, prompt text, created_at timestamptz, started_at timestamptz,
    finished_at timestamptz, result_text text, input_tokens bigint, cached_tokens bigint, output_tokens bigint,
    reasoning_tokens bigint);
create table steps (
    task_id bigint, attempt int, seq int, kind text, started_at timestamptz, finished_at timestamptz,
    duration_ms float8, ttft_ms float8, transport text, socket_id text, socket_reused bool, chained bool,
    response_id text, input_tokens int, cached_tokens int, output_tokens int, reasoning_tokens int,
    tool_name text, call_id text, arguments text, row_count int, truncated bool, error text, items jsonb,
    attempts int, recovery text, request_bytes int, model_ms float8);
-- Stored uncompressed so that loading a variant pays its own compression and nothing else.
alter table steps alter column items set storage external;

-- Step timings: model turns 1.5-8 s, tool calls 0.05-1.5 s; 0.5% of tasks resume steps 6-9 1-3 days later.
create temp table timing as
select t, s,
       timestamptz '2025-01-01' + (t - 1) * (:days * interval '1 day') / :tasks
         + sum(d) over (partition by t order by s rows between unbounded preceding and 1 preceding)
         + case when t % 200 = 7 and s >= 6 then (1 + t % 3) * interval '1 day' else interval '0' end as started_at,
       d
  from generate_series(1, :tasks) t
  cross join generate_series(1, 9) s
  cross join lateral (select case when s % 2 = 1 then interval '1 ms' * (1500 + random() * 6500)
                                  else interval '1 ms' * (50 + random() * 1450) end
                             + interval '20 ms' as d) x;
update timing set started_at = timestamptz '2025-01-01' + (t - 1) * (:days * interval '1 day') / :tasks where s = 1;

insert into steps
select t, case when t % 200 = 7 and s >= 6 then 2 else 1 end, s,
       case when s % 2 = 1 then 'model' else 'tool' end,
       started_at, started_at + d - interval '20 ms', extract(epoch from d) * 1000 - 20,
       case when s % 2 = 1 then 300 + random() * 900 end,
       case when s % 2 = 1 then 'ws' end,
       case when s % 2 = 1 then 'ws-' || (t % 8) end,
       case when s % 2 = 1 then s > 1 end,
       case when s % 2 = 1 then s > 1 end,
       case when s % 2 = 1 then 'resp_' || md5(t || ':' || s) end,
       case when s % 2 = 1 then 2000 + s * 1500 end,
       case when s % 2 = 1 then 1500 + s * 1400 end,
       case when s % 2 = 1 then 150 + (random() * 400)::int end,
       case when s % 2 = 1 then 100 + (random() * 300)::int end,
       case when s % 2 = 0 then 'run_sql' end,
       case when s % 2 = 0 then 'call_' || md5(t || ':' || (s - 1)) end,
       case when s % 2 = 0 then jsonb_build_object('sql', q.v)::text end,
       case when s % 2 = 0 then 22 + (tb.i % 68) end,
       case when s % 2 = 0 then false end,
       null,
       case
         when s = 9 then jsonb_build_array(
           jsonb_build_object('type', 'reasoning', 'id', 'rs_' || md5(t || 'r' || s), 'summary', '[]'::jsonb,
                              'encrypted_content', r.v),
           jsonb_build_object('type', 'message', 'id', 'msg_' || md5(t || 'm'), 'role', 'assistant',
                              'status', 'completed',
                              'content', jsonb_build_array(jsonb_build_object('type', 'output_text', 'text', m.v,
                                                                              'annotations', '[]'::jsonb))))
         when s % 2 = 1 then jsonb_build_array(
           jsonb_build_object('type', 'reasoning', 'id', 'rs_' || md5(t || 'r' || s), 'summary', '[]'::jsonb,
                              'encrypted_content', r.v),
           jsonb_build_object('type', 'function_call', 'id', 'fc_' || md5(t || 'f' || s), 'call_id',
                              'call_' || md5(t || ':' || s), 'name', 'run_sql', 'status', 'completed',
                              'arguments', jsonb_build_object('sql', qn.v)::text))
         else jsonb_build_array(
           jsonb_build_object('type', 'function_call_output', 'call_id', 'call_' || md5(t || ':' || (s - 1)),
                              'output', tb.v))
       end,
       case when s % 2 = 1 then 1 end,
       null,
       case when s % 2 = 1 then 2000 + s * 9000 end,
       case when s % 2 = 1 then extract(epoch from d) * 1000 - 25 end
  from timing
  join pool_reasoning r on r.i = 1 + h((t * 16 + s)) % 3000
  join pool_table tb on tb.i = 1 + h((t * 16 + s + 1000003)) % 6000
  join pool_message m on m.i = 1 + h((t * 16 + s + 2000003)) % 2000
  join pool_sql q on q.i = 1 + h((t * 16 + s - 1)) % 2000       -- the SQL of the call this tool step answers
  join pool_sql qn on qn.i = 1 + h((t * 16 + s)) % 2000;        -- the SQL of the call this model step makes

insert into tasks
select task_id,
       case when task_id % 100 < 90 then 'succeeded' when task_id % 100 < 97 then 'failed' else 'cancelled' end,
       'Which customers drove the revenue change in region ' || (task_id % 4) || ' last month? Task ' || task_id,
       min(started_at) - interval '1 s', min(started_at), max(finished_at),
       case when task_id % 100 < 90 then left(max(m.v), 600) end,
       30000, 20000, 1500, 900
  from steps
  join pool_message m on m.i = 1 + task_id % 2000
 group by task_id;

analyze tasks;
analyze steps;
