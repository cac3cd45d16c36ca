DROP TRIGGER audit_log_append_only ON audit_log;
DROP FUNCTION audit_log_append_only;
ALTER TABLE audit_log
    DROP COLUMN hash,
    DROP COLUMN prev_hash;
