DROP INDEX refresh_tokens_user;
DROP INDEX ws_tickets_user;
ALTER TABLE ws_tickets DROP COLUMN session_hash;
ALTER TABLE ws_tickets DROP COLUMN credential_version;
ALTER TABLE users DROP COLUMN credential_version;
