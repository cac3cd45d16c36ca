-- Raised whenever every credential issued so far must stop working (deactivation, a password
-- change). Access tokens and WebSocket tickets carry the version they were issued under.
ALTER TABLE users ADD COLUMN credential_version BIGINT NOT NULL DEFAULT 0;
-- A ticket remembers the credential it was minted through, so redeeming it checks that again.
ALTER TABLE ws_tickets ADD COLUMN credential_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ws_tickets ADD COLUMN session_hash TEXT;
CREATE INDEX ws_tickets_user ON ws_tickets (user_id);
-- Deactivation and password changes revoke a user's refresh tokens by user.
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
