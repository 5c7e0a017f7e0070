-- pgbench: one step written the way RunStore.SaveAsync writes it (one INSERT per step, extended protocol, unprepared):
-- a tool step with a ~5 KB function_call_output of tabular text, for a random existing task, at a time inside that
-- task's day (so it lands in an existing partition). seq is random and large so it never collides with real steps.
\set tid random(:lo, :ntasks)
\set seq random(1000, 2000000000)
\set ep :t0 + ((:tid - 1) * :span) / :ntasks + 60
insert into steps (task_id, attempt, seq, kind, started_at, finished_at, duration_ms, tool_name, call_id, row_count,
                   truncated, items)
values (:tid, 1, :seq, 'tool', to_timestamp(:ep), to_timestamp(:ep + 1), 1000, 'run_sql', 'call_' || :seq, 50, false,
        jsonb_build_array(jsonb_build_object('type', 'function_call_output', 'call_id', 'call_' || :seq,
            'output', (select string_agg(format('%9s | %-12s | %8s | %s', :seq + g, md5((:seq + g)::text)::varchar(12),
                                                 (:seq % 9973) * g % 100000, date '2024-01-01' + g), E'\n')
                         from generate_series(1, 90) g))));
