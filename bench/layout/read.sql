-- pgbench: the checkpoint read of one random task, as RunStore.LoadCheckpointAsync issues it.
\set tid random(1, :ntasks)
select seq, kind, items::text as items from steps where task_id = :tid order by seq;
