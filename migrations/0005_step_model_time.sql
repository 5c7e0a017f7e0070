-- Time spent inside the transport (request sent to terminal event) for each model step: duration_ms minus this is
-- what the worker itself added.
alter table agent.steps add column model_ms double precision;
