-- Rate limits shared by every instance on this database. One row per limited key holds its GCRA
-- "theoretical arrival time": a request is allowed when tat - interval * (burst - 1) <= now, and
-- then moves tat to max(tat, now) + interval. The table is UNLOGGED: no WAL is written for it, and
-- after a crash PostgreSQL empties it, which only forgives whatever quota was spent.
CREATE UNLOGGED TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat TIMESTAMPTZ NOT NULL
);

-- Takes one request from every quota named, all or nothing: returns 0 when allowed (each quota's
-- row moved on), otherwise the microseconds until the same request would pass (nothing moved).
-- Keys must come sorted, so that concurrent callers lock rows in one order. The database's clock
-- is the one clock every instance shares.
CREATE FUNCTION messaging_rate_take(p_keys TEXT[], p_interval_us BIGINT[], p_burst INT[])
RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_now TIMESTAMPTZ := clock_timestamp();
    v_wait BIGINT := 0;
    v_tat TIMESTAMPTZ;
    i INT;
BEGIN
    INSERT INTO rate_limits (key, tat)
        SELECT k, '-infinity' FROM unnest(p_keys) AS k
        ON CONFLICT (key) DO NOTHING;
    FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        SELECT tat INTO v_tat FROM rate_limits WHERE key = p_keys[i] FOR UPDATE;
        v_wait := greatest(
            v_wait,
            (extract(epoch FROM (greatest(v_tat, v_now) - v_now)) * 1000000)::BIGINT
                - p_interval_us[i] * (p_burst[i] - 1)
        );
    END LOOP;
    IF v_wait > 0 THEN
        RETURN v_wait;
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        UPDATE rate_limits
            SET tat = greatest(tat, v_now) + p_interval_us[i] * INTERVAL '1 microsecond'
            WHERE key = p_keys[i];
    END LOOP;
    RETURN 0;
END
$$;
