-- Every user's ordered event stream. A change appends its events in its own transaction: the
-- head row's lock hands out gap-free numbers per user (a rolled-back change gives its number
-- back), and the stream is what a reconnecting device replays from.
CREATE TABLE event_heads (
    user_id  BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL
);
CREATE TABLE user_events (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    payload TEXT NOT NULL,
    -- The message the event is about, so that a delete for everyone can redact the body kept
    -- in earlier entries (a device replaying later must not receive it).
    message_id BIGINT,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX user_events_at ON user_events (at);
CREATE INDEX user_events_message_id ON user_events (message_id) WHERE message_id IS NOT NULL;

-- When the first device of the recipient received a message (a delivery receipt).
CREATE TABLE message_deliveries (
    message_id   BIGINT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    delivered_at TIMESTAMPTZ NOT NULL
);

-- Users who hide their presence.
CREATE TABLE presence_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hidden  BOOLEAN NOT NULL
);

-- Which server instance holds open sockets of which user, refreshed by each instance's heartbeat:
-- a user is online while some instance has seen them recently.
CREATE TABLE presence_connections (
    instance_id TEXT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seen_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, instance_id)
);

-- Single-use WebSocket tickets for browsers, stored hashed: any instance can redeem one once.
CREATE TABLE ws_tickets (
    ticket_hash TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX ws_tickets_expires_at ON ws_tickets (expires_at);
