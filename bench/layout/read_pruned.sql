-- pgbench, partitioned layout: the same read with a lower bound on the partition key taken from the task's created_at
-- (steps never start before their task was created), which prunes the partitions older than the task. :t0 + the
-- task's offset is how gen.sql spread created_at; 2 s of slack.
\set tid random(1, :ntasks)
\set ep :t0 + ((:tid - 1) * :span) / :ntasks - 2
select seq, kind, items::text as items from steps where task_id = :tid and started_at >= to_timestamp(:ep) order by seq;
