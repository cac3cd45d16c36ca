-- The audit log becomes a hash chain: each entry stores the previous entry's hash and its own,
-- SHA-256 over that previous hash and the entry's contents (hex; see the store's `audit` module for
-- the encoding), so that `cargo xtask audit verify` finds an entry that was changed or removed.
-- Entries written before this migration keep NULL hashes: the chain starts from the genesis value
-- (64 zeros) at the first entry written after it, and verification counts the older ones apart.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Append-only: the application only ever inserts, so any UPDATE or DELETE is refused.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed');
END;
