-- Messages reported to the admins.
CREATE TABLE reports (
    id          BIGSERIAL PRIMARY KEY,
    reporter_id BIGINT NOT NULL REFERENCES users (id),
    message_id  BIGINT NOT NULL REFERENCES messages (id),
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX reports_newest ON reports (id DESC);
