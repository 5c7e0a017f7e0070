-- How each model turn travelled: requests sent for it, what went wrong and how it was recovered, request size.
alter table agent.steps
    add column attempts      integer,
    add column recovery      text,
    add column request_bytes integer;
