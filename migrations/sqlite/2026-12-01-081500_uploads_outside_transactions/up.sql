-- An attachment's object is stored before its message's transaction, so that a slow upload holds
-- no transaction. Each upload is recorded here before it starts and removed in the transaction
-- that stores its message; a row left behind names an object whose message never committed (the
-- process stopped in between), which the server's sweep removes once the row is old. The sweep
-- first marks a row abandoned, after which no message can be stored with it.
CREATE TABLE pending_uploads (
    storage_key TEXT PRIMARY KEY,
    uploader_id BIGINT NOT NULL REFERENCES users (id),
    started_at  TEXT NOT NULL,
    abandoned   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX pending_uploads_started ON pending_uploads (started_at);

-- A file whose scan fails (the scanner or the storage erred) waits longer after each failure
-- instead of coming first in every scan round.
ALTER TABLE attachments ADD COLUMN scan_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attachments ADD COLUMN next_scan_at TEXT;
