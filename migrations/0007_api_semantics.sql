-- The SQL API says what happened: a repeated idempotency key with other content is refused, agent.cancel tells its
-- outcome, agent.retry runs a finished task again from its steps, and a task records the model it ran on.

alter table agent.tasks
    -- the model the task ran on: its own, or the worker's Llm:Model when it named none (set when a run claims it)
    add column effective_model text,
    -- for a task with an idempotency key: a digest of what was asked, to tell a repeat from a different request
    add column request_digest  text;

-- What agent.enqueue compares on a repeated idempotency key. run_at is left out: it is when, not what (and a retry
-- moves it). max_steps as first asked: agent.retry may raise it later.
create function agent.request_digest(
    prompt text, instructions text, model text, priority integer, max_steps integer, deadline timestamptz,
    tool_config jsonb, batch_id bigint) returns text
language sql stable parallel safe as $$
    -- the deadline as epoch seconds: its text would follow the session's TimeZone
    select md5(jsonb_build_array(prompt, instructions, model, priority, max_steps, extract(epoch from deadline),
                                 coalesce(tool_config, '{}'::jsonb), batch_id)::text)
$$;

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
    digest text;
    existing agent.tasks%rowtype;
    differs text[];
begin
    if prompt is null or btrim(prompt) = '' then
        raise exception 'agent.enqueue: prompt must not be empty' using errcode = '22023';
    end if;
    if length(prompt) > 200000 then
        raise exception 'agent.enqueue: prompt is % characters long; the limit is 200000', length(prompt)
            using errcode = '22023';
    end if;
    if instructions is not null and length(instructions) > 200000 then
        raise exception 'agent.enqueue: instructions are % characters long; the limit is 200000', length(instructions)
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

    if batch_id is not null then
        perform agent.join_batch(batch_id, only_check => true);
    end if;
    if idempotency_key is not null then
        digest := agent.request_digest(prompt, instructions, model, priority, max_steps, deadline, tool_config, batch_id);
    end if;

    insert into agent.tasks as t
        (prompt, instructions, model, priority, max_steps, idempotency_key, request_digest, run_at, deadline,
         tool_config, batch_id)
    values
        (prompt, instructions, model, priority, max_steps, idempotency_key, digest, coalesce(run_at, now()), deadline,
         coalesce(tool_config, '{}'::jsonb), batch_id)
    on conflict on constraint tasks_idempotency_key_key do nothing
    returning t.id into new_id;

    if new_id is not null and batch_id is not null then
        -- counted into its batch's total (agent.join_batch, 0008_batches): only an open batch takes tasks
        perform agent.join_batch(batch_id);
    end if;

    if new_id is null then
        -- A repeated idempotency key: the same request gets the first task's id, whatever its state; another request
        -- under the same key is refused (it would otherwise be silently dropped).
        select t.* into existing from agent.tasks t where t.idempotency_key = enqueue.idempotency_key;
        if existing.request_digest is distinct from digest
           and (existing.request_digest is not null
                or agent.request_digest(existing.prompt, existing.instructions, existing.model, existing.priority,
                                        existing.max_steps, existing.deadline, existing.tool_config, existing.batch_id)
                   is distinct from digest) then
            differs := array_remove(array[
                case when existing.prompt is distinct from prompt then 'prompt' end,
                case when existing.instructions is distinct from instructions then 'instructions' end,
                case when existing.model is distinct from model then 'model' end,
                case when existing.priority is distinct from priority then 'priority' end,
                case when existing.max_steps is distinct from max_steps then 'max_steps' end,
                case when existing.deadline is distinct from deadline then 'deadline' end,
                case when existing.tool_config is distinct from coalesce(tool_config, '{}'::jsonb) then 'tool_config' end,
                case when existing.batch_id is distinct from batch_id then 'batch_id' end], null);
            raise exception 'agent.enqueue: idempotency_key "%" was already used for task % with different content (%)',
                left(idempotency_key, 200), existing.id,
                coalesce(nullif(array_to_string(differs, ', '), ''), 'max_steps as first asked')
                using errcode = '23505', hint = 'Use a new key for a new request; the same request with the same key returns the first task.';
        end if;
        new_id := existing.id;
    end if;
    return new_id;
end $$;

-- agent.cancel(task_id, reason) now says what happened:
--   'cancelled'        the task was queued and is cancelled now
--   'stop_requested'   the task is running; its worker stops it within a second, keeping its steps
--   'already_finished' it had succeeded, failed or been cancelled: nothing changed
--   'not_found'        there is no such task
drop function agent.cancel(bigint, text);
create function agent.cancel(task_id bigint, reason text default null) returns text
language plpgsql as $$
declare
    found_status text;
    why text := coalesce(nullif(btrim(reason), ''), 'agent.cancel');
begin
    select t.status into found_status from agent.tasks t where t.id = cancel.task_id for update;
    if found_status is null then
        return 'not_found';
    end if;
    if found_status = 'queued' then
        update agent.tasks t
           set status = 'cancelled', finished_at = now(), error_code = 'cancelled',
               error_message = 'cancelled before it started (' || why || ')',
               cancel_requested_at = now(), cancel_reason = why
         where t.id = cancel.task_id;
        return 'cancelled';
    end if;
    if found_status = 'running' then
        update agent.tasks t
           set cancel_requested_at = coalesce(t.cancel_requested_at, now()), cancel_reason = coalesce(t.cancel_reason, why)
         where t.id = cancel.task_id;
        perform pg_notify('agent_cancel', cancel.task_id::text);
        return 'stop_requested';
    end if;
    return 'already_finished';
end $$;

-- agent.retry(task_id, max_steps): a failed or cancelled task is queued again, due now. Its next run resumes from its
-- stored steps (the model sees the conversation so far, tool results included); its usage and steps are kept and the
-- retry budget starts afresh. max_steps, when given, replaces the task's (1 to 200): a task that failed on max_steps
-- stops again at once without it. Returns:
--   'queued'            queued again
--   'not_found'         there is no such task
--   'not_finished'      it is queued or running
--   'succeeded'         a succeeded task is not run again (enqueue a new one)
--   'deadline_passed'   its deadline has passed: it would fail at once
create function agent.retry(task_id bigint, max_steps integer default null) returns text
language plpgsql as $$
#variable_conflict use_variable
declare
    task agent.tasks%rowtype;
begin
    if max_steps is not null and max_steps not between 1 and 200 then
        raise exception 'agent.retry: max_steps must be between 1 and 200, got %', max_steps using errcode = '22023';
    end if;
    select t.* into task from agent.tasks t where t.id = retry.task_id for update;
    if task.id is null then
        return 'not_found';
    end if;
    if task.status in ('queued', 'running') then
        return 'not_finished';
    end if;
    if task.status = 'succeeded' then
        return 'succeeded';
    end if;
    if task.deadline is not null and task.deadline <= now() then
        return 'deadline_passed';
    end if;
    update agent.tasks t
       set status = 'queued', run_at = now(), finished_at = null, result_text = null, error_code = null,
           error_message = null, cancel_requested_at = null, cancel_reason = null, retries = 0, hangfire_job_id = null,
           lease_owner = null, lease_expires_at = null, max_steps = coalesce(max_steps, t.max_steps)
     where t.id = retry.task_id;
    perform pg_notify('agent_tasks', '');
    return 'queued';
end $$;

-- agent.requeue (the dashboard's Requeue): agent.retry for a finished task; a queued one (waiting for a retry) is
-- due now. Returns what happened, in words.
create or replace function agent.requeue(task_id bigint) returns text
language plpgsql as $$
declare
    outcome text;
begin
    update agent.tasks t set run_at = now() where t.id = requeue.task_id and t.status = 'queued';
    if found then
        perform pg_notify('agent_tasks', '');
        return 'requeued';
    end if;
    outcome := agent.retry(requeue.task_id);
    return case outcome
        when 'queued' then 'requeued'
        when 'not_found' then 'no such task'
        when 'not_finished' then 'not requeued: the task is running'
        when 'succeeded' then 'not requeued: the task is succeeded'
        else 'not requeued: its deadline has passed'
    end;
end $$;
