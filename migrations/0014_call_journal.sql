-- The journal of calls with side effects, and the operator's word on a call left in doubt.
--
-- A tool with side effects (a refund, a ticket, an email: any tool the worker is not told is read-only) is journaled:
-- a row here when its call starts, marked finished by the same statement that stores the call's output as a step.
-- A resumed run never runs a finished call again (its stored output is replayed to the model); a call started and
-- never finished (the worker died mid-call) is "in doubt": run again only if its tool is idempotent by key, else the
-- task fails with error_code 'tool_in_doubt' until an operator decides with agent.retry(task_id, in_doubt => ...).

create table agent.tool_calls (
    task_id         bigint      not null references agent.tasks (id) on delete cascade,
    call_id         text        not null,
    tool_name       text        not null,
    -- what the tool got as ToolCallContext.IdempotencyKey: 'agentworker:{task_id}:{call_id}'
    idempotency_key text        not null,
    -- the tool said a second call with the same key has no further effect
    idempotent      boolean     not null,
    -- the attempt that started it last, and how many times it was started
    attempt         integer     not null,
    runs            integer     not null default 1,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    -- the operator's decision on a call in doubt, read by the next run: 'rerun' calls it again, 'skip' tells the model
    -- it was skipped
    resolution      text        check (resolution in ('rerun', 'skip')),
    primary key (task_id, call_id)
);

comment on table agent.tool_calls is
    'Calls of tools with side effects: started before the call, finished with its stored output. Started and never finished = in doubt.';

-- The tools a task's run offered (written with the run's first step).
alter table agent.tasks add column if not exists tools text[];

-- agent.retry(task_id, max_steps, in_doubt): as before (0007_api_semantics), and a task that failed with
-- 'tool_in_doubt' needs the operator's word on its calls in doubt:
--   in_doubt => 'rerun'  each call in doubt is run again (the operator checked it did not take effect)
--   in_doubt => 'skip'   none is run again; the model is told each was skipped and its effect is unknown
-- Without it such a task is left as it is and 'in_doubt' is returned.
drop function agent.retry(bigint, integer);
create function agent.retry(task_id bigint, max_steps integer default null, in_doubt text default null) returns text
language plpgsql as $$
#variable_conflict use_variable
declare
    task agent.tasks%rowtype;
begin
    if max_steps is not null and max_steps not between 1 and 200 then
        raise exception 'agent.retry: max_steps must be between 1 and 200, got %', max_steps using errcode = '22023';
    end if;
    if in_doubt is not null and in_doubt not in ('rerun', 'skip') then
        raise exception 'agent.retry: in_doubt must be ''rerun'' or ''skip'', got "%"', left(in_doubt, 100)
            using errcode = '22023';
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
    if in_doubt is null and exists (select 1 from agent.tool_calls c
                                     where c.task_id = retry.task_id and c.finished_at is null
                                       and not c.idempotent and c.resolution is null) then
        return 'in_doubt';
    end if;
    update agent.tool_calls c
       set resolution = in_doubt
     where c.task_id = retry.task_id and c.finished_at is null and in_doubt is not null;
    update agent.tasks t
       set status = 'queued', run_at = now(), finished_at = null, result_text = null, error_code = null,
           error_message = null, cancel_requested_at = null, cancel_reason = null, retries = 0, hangfire_job_id = null,
           lease_owner = null, lease_expires_at = null, max_steps = coalesce(max_steps, t.max_steps)
     where t.id = retry.task_id;
    perform pg_notify('agent_tasks', '');
    return 'queued';
end $$;
