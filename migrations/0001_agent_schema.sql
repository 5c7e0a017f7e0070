-- The agent schema: tasks (the source of truth), their steps, and the SQL API to enqueue and cancel.
-- Forward-only: once applied anywhere, this file is never edited; changes go in a new file.

create table agent.tasks (
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
    reasoning_tokens  bigint      not null default 0
);

-- The dispatcher's scan: due, queued, not yet handed to Hangfire.
create index tasks_undispatched_idx on agent.tasks (run_at) where status = 'queued' and hangfire_job_id is null;
create index tasks_status_idx on agent.tasks (status, id);

create table agent.steps (
    id                bigint generated always as identity primary key,
    task_id           bigint      not null references agent.tasks (id) on delete cascade,
    attempt           integer     not null,
    seq               integer     not null,
    kind              text        not null check (kind in ('model', 'tool')),
    started_at        timestamptz not null,
    finished_at       timestamptz not null,
    duration_ms       double precision not null,
    -- model steps
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
    -- tool steps
    tool_name         text,
    call_id           text,
    arguments         text,
    row_count         integer,
    truncated         boolean,
    error             text,
    -- the conversation items this step added: the checkpoint a retried run resumes from
    items             jsonb       not null default '[]'::jsonb,
    unique (task_id, seq)
);

-- Every insert of tasks wakes the dispatchers at once (one NOTIFY per statement, not per row).
create function agent.notify_tasks_inserted() returns trigger
language plpgsql as $$
begin
    perform pg_notify('agent_tasks', '');
    return null;
end $$;

create trigger tasks_inserted_notify after insert on agent.tasks
    for each statement execute function agent.notify_tasks_inserted();

-- agent.enqueue: the one code path behind SQL, HTTP and C# enqueues. Raises SQLSTATE 22023
-- (invalid_parameter_value) with a message naming the argument; nothing is stored on error.
create function agent.enqueue(
    prompt          text,
    instructions    text        default null,
    model           text        default null,
    priority        integer     default 0,
    max_steps       integer     default 20,
    idempotency_key text        default null,
    run_at          timestamptz default null,
    deadline        timestamptz default null,
    tool_config     jsonb       default null,
    batch_id        bigint      default null
) returns bigint
language plpgsql as $$
#variable_conflict use_variable
declare
    new_id bigint;
begin
    if prompt is null or btrim(prompt) = '' then
        raise exception 'agent.enqueue: prompt must not be empty' using errcode = '22023';
    end if;
    if length(prompt) > 200000 then
        raise exception 'agent.enqueue: prompt is % characters long; the limit is 200000', length(prompt)
            using errcode = '22023';
    end if;
    if model is not null and model !~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' then
        raise exception 'agent.enqueue: model "%" is not a valid model name (letters, digits and ._:/- only, at most 128)',
            left(model, 200) using errcode = '22023';
    end if;
    if priority is null or priority not between -10 and 10 then
        raise exception 'agent.enqueue: priority must be between -10 and 10, got %', coalesce(priority::text, 'null')
            using errcode = '22023';
    end if;
    if max_steps is null or max_steps not between 1 and 200 then
        raise exception 'agent.enqueue: max_steps must be between 1 and 200, got %', coalesce(max_steps::text, 'null')
            using errcode = '22023';
    end if;
    if idempotency_key is not null and (btrim(idempotency_key) = '' or length(idempotency_key) > 200) then
        raise exception 'agent.enqueue: idempotency_key must be 1 to 200 characters when given'
            using errcode = '22023';
    end if;
    if deadline is not null and deadline <= coalesce(run_at, now()) then
        raise exception 'agent.enqueue: deadline % is not after the start time', deadline using errcode = '22023';
    end if;
    if tool_config is not null and jsonb_typeof(tool_config) <> 'object' then
        raise exception 'agent.enqueue: tool_config must be a JSON object, got a JSON %', jsonb_typeof(tool_config)
            using errcode = '22023';
    end if;

    insert into agent.tasks as t
        (prompt, instructions, model, priority, max_steps, idempotency_key, run_at, deadline, tool_config, batch_id)
    values
        (prompt, instructions, model, priority, max_steps, idempotency_key, coalesce(run_at, now()), deadline,
         coalesce(tool_config, '{}'::jsonb), batch_id)
    on conflict on constraint tasks_idempotency_key_key do nothing
    returning t.id into new_id;

    if new_id is null then
        -- A repeated idempotency key: the first task's id, whatever its state.
        select t.id into new_id from agent.tasks t where t.idempotency_key = enqueue.idempotency_key;
    end if;
    return new_id;
end $$;

-- agent.cancel: a queued task is cancelled at once; returns whether the task was cancelled.
-- (Stopping a running task is the lifecycle issue's work.)
create function agent.cancel(task_id bigint) returns boolean
language sql as $$
    with cancelled as (
        update agent.tasks t
           set status = 'cancelled', finished_at = now(), error_code = 'cancelled',
               error_message = 'cancelled before it started'
         where t.id = cancel.task_id and t.status = 'queued'
        returning t.id
    )
    select exists (select 1 from cancelled);
$$;
