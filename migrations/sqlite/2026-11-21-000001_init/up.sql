-- Same schema as PostgreSQL's; times are RFC 3339 text, ids INTEGER PRIMARY KEY AUTOINCREMENT so
-- that they never go back (history is ordered by id).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('student', 'tutor', 'patient', 'clinician', 'admin')),
    is_active     BOOLEAN NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE bookings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id BIGINT NOT NULL REFERENCES users (id),
    tutor_id   BIGINT NOT NULL REFERENCES users (id),
    state      TEXT NOT NULL CHECK (state IN ('requested', 'scheduled', 'active', 'ended', 'cancelled')),
    created_at TEXT NOT NULL
);
CREATE INDEX bookings_student_tutor ON bookings (student_id, tutor_id);
CREATE INDEX bookings_tutor_student ON bookings (tutor_id, student_id);

CREATE TABLE care_assignments (
    clinician_id BIGINT NOT NULL REFERENCES users (id),
    patient_id   BIGINT NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (clinician_id, patient_id)
);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id),
    blocked_id BIGINT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_low   BIGINT NOT NULL REFERENCES users (id),
    user_high  BIGINT NOT NULL REFERENCES users (id),
    booking_id BIGINT REFERENCES bookings (id),
    started_by BIGINT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    CHECK (user_low < user_high)
);
CREATE UNIQUE INDEX conversations_pair_booking ON conversations (user_low, user_high, COALESCE(booking_id, 0));

CREATE TABLE messages (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id         BIGINT NOT NULL REFERENCES conversations (id),
    sender_id               BIGINT NOT NULL REFERENCES users (id),
    recipient_id            BIGINT NOT NULL REFERENCES users (id),
    booking_id              BIGINT REFERENCES bookings (id),
    subject                 TEXT,
    body                    TEXT NOT NULL,
    parent_id               BIGINT REFERENCES messages (id),
    created_at              TEXT NOT NULL,
    read_at                 TEXT,
    edited_at               TEXT,
    deleted_by_sender       BOOLEAN NOT NULL DEFAULT 0,
    deleted_by_recipient    BOOLEAN NOT NULL DEFAULT 0,
    deleted_for_everyone_at TEXT,
    deleted_at              TEXT
);
CREATE INDEX messages_conversation_id ON messages (conversation_id, id);
CREATE INDEX messages_sender_id ON messages (sender_id, id);
CREATE INDEX messages_recipient_id ON messages (recipient_id, id);

-- Full-text index over subject and body, kept in step with messages by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    subject, body, content = 'messages', content_rowid = 'id', tokenize = 'porter unicode61'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
    INSERT INTO messages_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;

CREATE TABLE conversation_members (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    user_id         BIGINT NOT NULL REFERENCES users (id),
    other_user_id   BIGINT NOT NULL REFERENCES users (id),
    booking_id      BIGINT REFERENCES bookings (id),
    last_message_id BIGINT REFERENCES messages (id),
    last_message_at TEXT,
    unread_count    INTEGER NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX conversation_members_threads ON conversation_members (user_id, last_message_id DESC)
    WHERE last_message_id IS NOT NULL;
CREATE INDEX conversation_members_other ON conversation_members (user_id, other_user_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    BIGINT,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   BIGINT,
    client_addr TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    family     TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    revoked_at TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
