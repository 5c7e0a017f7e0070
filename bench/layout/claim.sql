-- pgbench: the concurrent short-transaction workload, a claim of the next queued task like RunStore's claim: in its
-- order (priority desc, id), which tasks_queued_idx serves (with "order by id" alone the planner walked tasks_pkey
-- past every finished task, ~10 ms a claim), and with its probe of steps for the task's last seq (which a partitioned
-- steps answers by probing every partition).
update tasks t set status = 'running', attempt = t.attempt + 1, started_at = coalesce(t.started_at, now())
 where t.id = (select id from tasks where status = 'queued' order by priority desc, id limit 1 for update skip locked)
returning t.id, (select coalesce(max(s.seq), 0) from steps s where s.task_id = t.id) as last_seq;
