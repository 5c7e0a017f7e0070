-- Retention: the sweep finds finished tasks oldest first through this index, and removes them with their steps in
-- small batches (RetentionJob). Steps' conversation items are compressed with lz4 where the server has it: faster to
-- write and to read back than the default pglz (bench/results/steps-layout.md). Values stored before keep pglz until
-- they are rewritten; both read the same.
create index tasks_finished_idx on agent.tasks (finished_at) where status in ('succeeded', 'failed', 'cancelled');

do $$
begin
    alter table agent.steps alter column items set compression lz4;
    alter table agent.steps alter column arguments set compression lz4;
    alter table agent.tasks alter column result_text set compression lz4;
exception when feature_not_supported or invalid_parameter_value then
    raise notice 'lz4 is not available on this server: steps keep the default compression (%)', sqlerrm;
end $$;
