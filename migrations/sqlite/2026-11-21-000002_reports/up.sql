-- Messages reported to the admins.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id BIGINT NOT NULL REFERENCES users (id),
    message_id  BIGINT NOT NULL REFERENCES messages (id),
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX reports_newest ON reports (id DESC);
