DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
ALTER TABLE audit_log DROP COLUMN hash;
ALTER TABLE audit_log DROP COLUMN prev_hash;
