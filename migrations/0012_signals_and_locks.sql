-- Notifications only wake a worker. Any login that can connect to this database may LISTEN on, and NOTIFY, any
-- channel: a payload told every listener which tasks, batches and schedules changed, and a forged 'agent_cancel'
-- with a task id stopped that task. The executor now re-reads its runs' cancel flags when woken; these functions are
-- redefined exactly as they were, with an empty payload (the replaced text must be found, or the migration fails).
do $$
declare
    f record;
    definition text;
begin
    for f in select * from (values
            ('agent.cancel(bigint,text)'::regprocedure, $s$pg_notify('agent_cancel', cancel.task_id::text)$s$, 'agent_cancel'),
            ('agent.cancel_batch(bigint)'::regprocedure, $s$pg_notify('agent_cancel', t.id::text)$s$, 'agent_cancel'),
            ('agent.count_batch_task()'::regprocedure, $s$pg_notify('agent_batch_finished', counted.id::text)$s$, 'agent_batch_finished'),
            ('agent.create_batch(text,text[],text,text,text,text,integer,integer,timestamptz,text,text,text,text)'::regprocedure,
                $s$pg_notify('agent_batches', new_id::text)$s$, 'agent_batches'),
            ('agent.upsert_schedule(text,text,text,text[],text,text,text,text,integer,integer,interval,text,boolean,text)'::regprocedure,
                $s$pg_notify('agent_schedules', name)$s$, 'agent_schedules'),
            ('agent.delete_schedule(text)'::regprocedure, $s$pg_notify('agent_schedules', delete_schedule.name)$s$, 'agent_schedules')
        ) as v(fn, call, channel)
    loop
        definition := pg_catalog.pg_get_functiondef(f.fn);
        if strpos(definition, f.call) = 0 then
            raise exception '0012: % no longer contains %', f.fn, f.call;
        end if;
        execute replace(definition, f.call, format('pg_notify(%L, %L)', f.channel, ''));
    end loop;
end $$;

-- The retention sweep's lock (AppLock): LOCK TABLE needs a privilege on the table, which only the App login has,
-- where any login could take and hold an advisory lock key and keep the sweep from ever running.
create table agent.retention_lock ();
