-- A task remembers the trace that enqueued it (W3C traceparent), so the span of its run can link back to it.
-- Whoever enqueues sets it for the transaction: SET LOCAL agent.traceparent = '00-<trace id>-<span id>-01' (the C#
-- client and the HTTP API do it when they are traced); every task inserted in that transaction carries it.
-- Not a parameter of agent.enqueue, so enqueue_many, batches and every existing caller get it unchanged.
alter table agent.tasks
    add column trace_parent text default left(nullif(current_setting('agent.traceparent', true), ''), 128);
