-- One layout variant in its own schema :s. psql variables: :s (schema), :comp ('pglz' or 'lz4': compression of
-- steps.items), :part ('on': steps range-partitioned by day on started_at, :nparts daily partitions from 2025-01-01).
-- tasks and steps are copied from migrations 0001 + 0002/0003/0005/0006/0007 (columns, checks, indexes, keys). Left
-- out: the insert NOTIFY trigger, the FK to agent.batches and the SQL functions (none of them touch steps).
\set ON_ERROR_STOP on
drop schema if exists :"s" cascade;
create schema :"s";
set search_path = :"s";

create table tasks (
    id                bigint generated always as identity primary key,
    batch_id          bigint,
    status            text        not null default 'queued'
                      check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    priority          smallint    not null default 0 check (priority between -10 and 10),
    prompt            text        not null check (btrim(prompt) <> ''),
    instructions      text,
    model             text,
    tool_config       jsonb       not null default '{}'::jsonb check (jsonb_typeof(tool_config) = 'object'),
    max_steps         integer     not null default 20 check (max_steps between 1 and 200),
    deadline          timestamptz,
    idempotency_key   text unique,
    run_at            timestamptz not null default now(),
    attempt           integer     not null default 0,
    hangfire_job_id   text,
    dispatched_at     timestamptz,
    lease_owner       text,
    lease_expires_at  timestamptz,
    created_at        timestamptz not null default now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    result_text       text,
    result_json       jsonb,
    error_code        text,
    error_message     text,
    input_tokens      bigint      not null default 0,
    cached_tokens     bigint      not null default 0,
    output_tokens     bigint      not null default 0,
    reasoning_tokens  bigint      not null default 0,
    cancel_requested_at timestamptz,                                    -- 0003
    retries           integer not null default 0,                       -- 0006
    snoozes           integer not null default 0,
    cancel_reason     text,
    effective_model   text,                                             -- 0007
    request_digest    text
);
alter table tasks add constraint tasks_run_at_finite check (isfinite(run_at)) not valid;
alter table tasks add constraint tasks_deadline_finite check (deadline is null or isfinite(deadline)) not valid;
create index tasks_status_idx on tasks (status, id);
create index tasks_running_lease_idx on tasks (lease_expires_at) where status = 'running';
create index tasks_queued_idx on tasks (priority desc, id) include (run_at) where status = 'queued';
create index tasks_batch_idx on tasks (batch_id, id) where batch_id is not null;

\if :part
-- Partitioned: every unique constraint must contain the partition key, so the primary key becomes (id, started_at)
-- and unique (task_id, seq) becomes unique (task_id, seq, started_at): (task_id, seq) is no longer enforced across
-- partitions. The FK to tasks (with its cascade) is still allowed on a partitioned referencing table.
create table steps (
    id                bigint generated always as identity,
    task_id           bigint      not null references tasks (id) on delete cascade,
    attempt           integer     not null,
    seq               integer     not null,
    kind              text        not null check (kind in ('model', 'tool')),
    started_at        timestamptz not null,
    finished_at       timestamptz not null,
    duration_ms       double precision not null,
    ttft_ms           double precision,
    transport         text check (transport in ('ws', 'http')),
    socket_id         text,
    socket_reused     boolean,
    chained           boolean,
    response_id       text,
    input_tokens      integer,
    cached_tokens     integer,
    output_tokens     integer,
    reasoning_tokens  integer,
    tool_name         text,
    call_id           text,
    arguments         text,
    row_count         integer,
    truncated         boolean,
    error             text,
    items             jsonb       not null default '[]'::jsonb,
    attempts          integer,
    recovery          text,
    request_bytes     integer,
    model_ms          double precision,
    primary key (id, started_at),
    unique (task_id, seq, started_at)
) partition by range (started_at);
-- Before the partitions exist: on PostgreSQL 15 SET COMPRESSION on the parent does not reach existing partitions
-- (partitions created afterwards inherit it).
alter table steps alter column items set compression :comp;
select format('create table %I partition of steps for values from (%L) to (%L)',
              'steps_' || to_char(d, 'YYYYMMDD'), d, d + interval '1 day')
  from generate_series(timestamptz '2025-01-01', timestamptz '2025-01-01' + (:nparts - 1) * interval '1 day',
                       interval '1 day') d
\gexec
\else
create table steps (
    id                bigint generated always as identity primary key,
    task_id           bigint      not null references tasks (id) on delete cascade,
    attempt           integer     not null,
    seq               integer     not null,
    kind              text        not null check (kind in ('model', 'tool')),
    started_at        timestamptz not null,
    finished_at       timestamptz not null,
    duration_ms       double precision not null,
    ttft_ms           double precision,
    transport         text check (transport in ('ws', 'http')),
    socket_id         text,
    socket_reused     boolean,
    chained           boolean,
    response_id       text,
    input_tokens      integer,
    cached_tokens     integer,
    output_tokens     integer,
    reasoning_tokens  integer,
    tool_name         text,
    call_id           text,
    arguments         text,
    row_count         integer,
    truncated         boolean,
    error             text,
    items             jsonb       not null default '[]'::jsonb,
    attempts          integer,
    recovery          text,
    request_bytes     integer,
    model_ms          double precision,
    unique (task_id, seq)
);
alter table steps alter column items set compression :comp;
\endif
