-- Cancelling running tasks, and enqueueing a set of prompts in one call.

alter table agent.tasks add column cancel_requested_at timestamptz;

-- agent.cancel: a queued task is cancelled at once; a running one is asked to stop (its worker hears the NOTIFY on
-- agent_cancel and stops within a second, keeping its steps). Returns whether anything was cancelled or requested.
create or replace function agent.cancel(task_id bigint) returns boolean
language plpgsql as $$
declare
    found_status text;
begin
    update agent.tasks t
       set status = 'cancelled', finished_at = now(), error_code = 'cancelled', error_message = 'cancelled before it started',
           cancel_requested_at = now()
     where t.id = cancel.task_id and t.status = 'queued'
    returning t.status into found_status;
    if found_status is not null then
        return true;
    end if;
    update agent.tasks t
       set cancel_requested_at = coalesce(t.cancel_requested_at, now())
     where t.id = cancel.task_id and t.status = 'running'
    returning t.status into found_status;
    if found_status is not null then
        perform pg_notify('agent_cancel', cancel.task_id::text);
        return true;
    end if;
    return false;
end $$;

-- agent.enqueue_many: one task per prompt, the same options for all, in one statement (one NOTIFY).
-- idempotency_key, when given, is a prefix: task i gets '<prefix>:<i>'. Returns the ids in prompt order.
create function agent.enqueue_many(
    prompts         text[],
    instructions    text        default null,
    model           text        default null,
    priority        integer     default 0,
    max_steps       integer     default 20,
    idempotency_key text        default null,
    run_at          timestamptz default null,
    deadline        timestamptz default null,
    tool_config     jsonb       default null,
    batch_id        bigint      default null
) returns bigint[]
language plpgsql as $$
declare
    ids bigint[] := '{}';
    i integer;
    empty_at bigint;
begin
    if prompts is null or cardinality(prompts) = 0 then
        raise exception 'agent.enqueue_many: prompts must hold at least one prompt' using errcode = '22023';
    end if;
    if cardinality(prompts) > 10000 then
        raise exception 'agent.enqueue_many: at most 10000 prompts per call, got %', cardinality(prompts) using errcode = '22023';
    end if;
    select min(p.n) into empty_at from unnest(prompts) with ordinality as p(t, n) where p.t is null or btrim(p.t) = '';
    if empty_at is not null then
        raise exception 'agent.enqueue_many: prompt % (counting from 1) is empty', empty_at using errcode = '22023';
    end if;
    for i in 1 .. cardinality(prompts) loop
        ids := ids || agent.enqueue(
            prompt => prompts[i], instructions => enqueue_many.instructions, model => enqueue_many.model,
            priority => enqueue_many.priority, max_steps => enqueue_many.max_steps,
            idempotency_key => case when enqueue_many.idempotency_key is null then null
                                    else enqueue_many.idempotency_key || ':' || i end,
            run_at => enqueue_many.run_at, deadline => enqueue_many.deadline,
            tool_config => enqueue_many.tool_config, batch_id => enqueue_many.batch_id);
    end loop;
    return ids;
end $$;

-- The dispatcher's sweep for runs that stopped heartbeating.
create index tasks_running_lease_idx on agent.tasks (lease_expires_at) where status = 'running';
