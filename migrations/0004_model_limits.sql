-- A per-model cap on concurrent runs, shared by every worker process through this table.

create table agent.model_limits (
    model          text primary key,
    max_concurrent integer not null check (max_concurrent > 0),
    updated_at     timestamptz not null default now()
);

-- One row per run holding a slot of its model's cap; a slot whose run stopped heartbeating expires.
create table agent.model_slots (
    task_id     bigint primary key references agent.tasks (id) on delete cascade,
    model       text not null,
    acquired_at timestamptz not null default now(),
    expires_at  timestamptz not null
);
create index model_slots_model_idx on agent.model_slots (model);

-- agent.set_model_limit('gpt-5.5', 8): at most 8 runs of that model at once across all workers; null removes the cap.
create function agent.set_model_limit(model text, max_concurrent integer) returns void
language plpgsql as $$
begin
    if model is null or btrim(model) = '' then
        raise exception 'agent.set_model_limit: model must not be empty' using errcode = '22023';
    end if;
    if max_concurrent is null then
        delete from agent.model_limits l where l.model = set_model_limit.model;
    elsif max_concurrent < 1 then
        raise exception 'agent.set_model_limit: max_concurrent must be at least 1 (or null for no cap), got %', max_concurrent
            using errcode = '22023';
    else
        insert into agent.model_limits as l (model, max_concurrent) values (set_model_limit.model, set_model_limit.max_concurrent)
        on conflict on constraint model_limits_pkey do update set max_concurrent = excluded.max_concurrent, updated_at = now();
    end if;
end $$;

-- Takes a slot for a run, or says no. Acquirers of one model queue on its limit row, so the count is exact.
create function agent.acquire_model_slot(model text, task_id bigint, lease interval) returns boolean
language plpgsql as $$
declare
    cap integer;
begin
    select l.max_concurrent into cap from agent.model_limits l where l.model = acquire_model_slot.model for update;
    if cap is null then
        return true;
    end if;
    delete from agent.model_slots s where s.model = acquire_model_slot.model and s.expires_at < now();
    update agent.model_slots s set expires_at = now() + lease where s.task_id = acquire_model_slot.task_id;
    if found then
        return true;
    end if;
    if (select count(*) from agent.model_slots s where s.model = acquire_model_slot.model) >= cap then
        return false;
    end if;
    insert into agent.model_slots (task_id, model, expires_at) values (acquire_model_slot.task_id, acquire_model_slot.model, now() + lease);
    return true;
end $$;
