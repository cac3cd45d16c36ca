-- The audit log becomes a hash chain: each entry stores the previous entry's hash and its own,
-- SHA-256 over that previous hash and the entry's contents (hex; see the store's `audit` module for
-- the encoding), so that `cargo xtask audit verify` finds an entry that was changed or removed.
-- Entries written before this migration keep NULL hashes: the chain starts from the genesis value
-- (64 zeros) at the first entry written after it, and verification counts the older ones apart.
ALTER TABLE audit_log
    ADD COLUMN prev_hash TEXT,
    ADD COLUMN hash TEXT;

-- Append-only: the application only ever inserts, so any UPDATE, DELETE or TRUNCATE is refused.
-- Statement-level triggers fire even when no row matches, so an attempt never passes silently.
CREATE FUNCTION audit_log_append_only() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
