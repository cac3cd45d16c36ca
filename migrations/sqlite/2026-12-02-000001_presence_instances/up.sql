-- Each server instance's heartbeat, one row per instance. A user is online while some instance
-- whose heartbeat is recent holds a socket of theirs (a row in presence_connections, written when
-- the socket opens and deleted when it closes). Before, the heartbeat rewrote one
-- presence_connections row per connected user every 30 s: at 2 000 users a burst of WAL whose
-- flush held up every commit on the database for 40-80 ms (docs/benchmarks.md).
CREATE TABLE presence_instances (
    instance_id TEXT PRIMARY KEY,
    seen_at     TEXT NOT NULL
);
INSERT INTO presence_instances (instance_id, seen_at)
SELECT instance_id, MAX(seen_at) FROM presence_connections GROUP BY instance_id;
-- presence_connections.seen_at now says when the instance first recorded the socket; only the
-- instance's own row says whether it is still alive.
