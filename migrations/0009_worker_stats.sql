-- What each worker process reports of itself every few seconds, for the dashboard's socket pool view. Unlogged: it is
-- a live view, rebuilt within seconds after a crash, and costs no WAL.
create unlogged table agent.worker_stats (
    process     text        primary key,   -- host:pid:random, as in lease_owner and the Hangfire server name
    host        text        not null,
    pid         integer     not null,
    started_at  timestamptz not null,
    updated_at  timestamptz not null,
    runs        integer     not null,      -- runs in flight
    slots       integer     not null,      -- runs it takes on at once
    pool        jsonb       not null       -- open, idle, leased, waiters, handshakes, reuses, recycles, pruned, failures
);
