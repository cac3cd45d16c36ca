ALTER TABLE attachments DROP COLUMN next_scan_at;
ALTER TABLE attachments DROP COLUMN scan_failures;
DROP TABLE pending_uploads;
