-- Files sent with messages. The message and its attachment are written in one transaction; the
-- object itself lives in the attachment storage under `storage_key`, which is built from ids and
-- random bytes only (never from the client's file name).
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   BIGINT NOT NULL REFERENCES messages (id),
    uploader_id  BIGINT NOT NULL REFERENCES users (id),
    storage_key  TEXT NOT NULL UNIQUE,
    file_name    TEXT NOT NULL,
    mime_type    TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL CHECK (size_bytes > 0),
    width        INTEGER,
    height       INTEGER,
    scan_status  TEXT NOT NULL CHECK (scan_status IN ('pending', 'clean', 'infected', 'not_scanned')),
    created_at   TEXT NOT NULL,
    scanned_at   TEXT
);
CREATE INDEX attachments_message ON attachments (message_id, id);
-- The scan worker's queue: small, since files leave it as soon as they are scanned.
CREATE INDEX attachments_unscanned ON attachments (id) WHERE scan_status IN ('pending', 'not_scanned');
