-- The run executor claims straight from agent.tasks: Hangfire only mirrors tasks. Retries and snoozes are owned here.

-- Transient failures handed back for a later attempt (the retry budget), and waits for a model at its shared cap
-- (which use no attempt).
alter table agent.tasks
    add column retries      integer not null default 0,
    add column snoozes      integer not null default 0,
    -- who asked to cancel: 'agent.cancel', 'the REST API', 'its Hangfire job was deleted' ...
    add column cancel_reason text;

-- A stored infinite time would never be due (run_at) or never pass (deadline): refused from now on. Not validated
-- against old rows, so the migration cannot fail on them; the executor copes with any stored value.
alter table agent.tasks add constraint tasks_run_at_finite check (isfinite(run_at)) not valid;
alter table agent.tasks add constraint tasks_deadline_finite check (deadline is null or isfinite(deadline)) not valid;

-- The claim: queued tasks by priority, then id.
drop index agent.tasks_undispatched_idx;
create index tasks_queued_idx on agent.tasks (priority desc, id) include (run_at) where status = 'queued';

create or replace function agent.enqueue(
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
    if run_at is not null and not isfinite(run_at) then
        raise exception 'agent.enqueue: run_at must be a finite time, got %', run_at using errcode = '22023';
    end if;
    if deadline is not null and not isfinite(deadline) then
        raise exception 'agent.enqueue: deadline must be a finite time, got %', deadline using errcode = '22023';
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

-- agent.cancel(task_id, reason): as before, and the reason is kept on the task ('agent.cancel' when none is given).
drop function agent.cancel(bigint);
create function agent.cancel(task_id bigint, reason text default null) returns boolean
language plpgsql as $$
declare
    found_status text;
    why text := coalesce(nullif(btrim(reason), ''), 'agent.cancel');
begin
    update agent.tasks t
       set status = 'cancelled', finished_at = now(), error_code = 'cancelled',
           error_message = 'cancelled before it started (' || why || ')',
           cancel_requested_at = now(), cancel_reason = why
     where t.id = cancel.task_id and t.status = 'queued'
    returning t.status into found_status;
    if found_status is not null then
        return true;
    end if;
    update agent.tasks t
       set cancel_requested_at = coalesce(t.cancel_requested_at, now()), cancel_reason = coalesce(t.cancel_reason, why)
     where t.id = cancel.task_id and t.status = 'running'
    returning t.status into found_status;
    if found_status is not null then
        perform pg_notify('agent_cancel', cancel.task_id::text);
        return true;
    end if;
    return false;
end $$;

-- agent.requeue: a failed or cancelled task gets a new attempt that resumes from its stored steps (its earlier usage
-- and steps are kept); a queued one (waiting for a retry) is due at once. Behind the dashboard's Requeue button: the
-- task's run then shows as a new Hangfire job. Returns what happened, in words.
create function agent.requeue(task_id bigint) returns text
language plpgsql as $$
declare
    found_status text;
begin
    select t.status into found_status from agent.tasks t where t.id = requeue.task_id for update;
    if found_status is null then
        return 'no such task';
    end if;
    if found_status not in ('failed', 'cancelled', 'queued') then
        return 'not requeued: the task is ' || found_status;
    end if;
    update agent.tasks t
       set status = 'queued', run_at = now(), finished_at = null, result_text = null, error_code = null,
           error_message = null, cancel_requested_at = null, cancel_reason = null, retries = 0, hangfire_job_id = null,
           lease_owner = null, lease_expires_at = null
     where t.id = requeue.task_id;
    perform pg_notify('agent_tasks', '');
    return 'requeued';
end $$;
