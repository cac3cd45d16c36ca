-- Users and what relates them.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('student', 'tutor', 'patient', 'clinician', 'admin')),
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL
);
-- User names are unique whatever their case; lookups go through lower(username).
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE bookings (
    id         BIGSERIAL PRIMARY KEY,
    student_id BIGINT NOT NULL REFERENCES users (id),
    tutor_id   BIGINT NOT NULL REFERENCES users (id),
    state      TEXT NOT NULL CHECK (state IN ('requested', 'scheduled', 'active', 'ended', 'cancelled')),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX bookings_student_tutor ON bookings (student_id, tutor_id);
CREATE INDEX bookings_tutor_student ON bookings (tutor_id, student_id);

CREATE TABLE care_assignments (
    clinician_id BIGINT NOT NULL REFERENCES users (id),
    patient_id   BIGINT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (clinician_id, patient_id)
);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id),
    blocked_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

-- The search keys of a message: each lexeme of its text once per party, prefixed with that party's
-- id (`42uhomework`), so that one GIN lookup finds exactly one user's matching messages instead of
-- intersecting every user's matches with every message of the user.
CREATE FUNCTION messaging_search_keys(sender BIGINT, recipient BIGINT, doc TSVECTOR)
RETURNS TSVECTOR LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT party::text || 'u' || d.lexeme
        FROM unnest(doc) AS d, (VALUES (sender), (recipient)) AS p(party)))
$$;

-- One conversation per pair of users and booking context.
CREATE TABLE conversations (
    id         BIGSERIAL PRIMARY KEY,
    user_low   BIGINT NOT NULL REFERENCES users (id),
    user_high  BIGINT NOT NULL REFERENCES users (id),
    booking_id BIGINT REFERENCES bookings (id),
    started_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (user_low < user_high)
);
CREATE UNIQUE INDEX conversations_pair_booking ON conversations (user_low, user_high, COALESCE(booking_id, 0));

CREATE TABLE messages (
    id                      BIGSERIAL PRIMARY KEY,
    conversation_id         BIGINT NOT NULL REFERENCES conversations (id),
    sender_id               BIGINT NOT NULL REFERENCES users (id),
    recipient_id            BIGINT NOT NULL REFERENCES users (id),
    booking_id              BIGINT REFERENCES bookings (id),
    subject                 TEXT,
    body                    TEXT NOT NULL,
    parent_id               BIGINT REFERENCES messages (id),
    created_at              TIMESTAMPTZ NOT NULL,
    read_at                 TIMESTAMPTZ,
    edited_at               TIMESTAMPTZ,
    deleted_by_sender       BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_by_recipient    BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_for_everyone_at TIMESTAMPTZ,
    deleted_at              TIMESTAMPTZ,
    -- Ranked by ts_rank (which needs positions); found through messages_search_keys.
    search_vector           TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('english', COALESCE(subject, '') || ' ' || body)
    ) STORED
);
-- History: one conversation, newest first (keyset on id).
CREATE INDEX messages_conversation_id ON messages (conversation_id, id);
-- Sent list.
CREATE INDEX messages_sender_id ON messages (sender_id, id);
CREATE INDEX messages_recipient_id ON messages (recipient_id, id);
-- The keys live only in the index: storing them in the table would double its size.
CREATE INDEX messages_search_keys ON messages
    USING GIN (messaging_search_keys(sender_id, recipient_id, search_vector));

-- Each member's view of a conversation, kept up to date in the same transaction as every message
-- change, so that a thread list is one index range scan.
CREATE TABLE conversation_members (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    user_id         BIGINT NOT NULL REFERENCES users (id),
    other_user_id   BIGINT NOT NULL REFERENCES users (id),
    booking_id      BIGINT REFERENCES bookings (id),
    -- The newest message this member can still see; NULL hides the thread from this member.
    last_message_id BIGINT REFERENCES messages (id),
    last_message_at TIMESTAMPTZ,
    unread_count    INTEGER NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX conversation_members_threads ON conversation_members (user_id, last_message_id DESC)
    WHERE last_message_id IS NOT NULL;
CREATE INDEX conversation_members_other ON conversation_members (user_id, other_user_id);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    actor_id    BIGINT,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   BIGINT,
    client_addr TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    family     TEXT NOT NULL,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

-- Search, as functions so that PL/pgSQL caches the plan per connection (planning this query costs
-- about as much as running it for a small mailbox). `p_terms` must be letters, digits and spaces
-- (the store passes `SearchQuery::terms`), which makes quoting them into a tsquery safe.
-- `search_hits` is what the caller can see that matches, with its rank.
CREATE FUNCTION messaging_search(p_user BIGINT, p_terms TEXT, p_limit BIGINT, p_offset BIGINT)
RETURNS TABLE (
    id BIGINT, conversation_id BIGINT, sender_id BIGINT, recipient_id BIGINT, booking_id BIGINT,
    subject TEXT, body TEXT, parent_id BIGINT, created_at TIMESTAMPTZ, read_at TIMESTAMPTZ,
    edited_at TIMESTAMPTZ, deleted_by_sender BOOLEAN, deleted_by_recipient BOOLEAN,
    deleted_for_everyone_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ, total BIGINT
) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH terms AS (
        SELECT plainto_tsquery('english', p_terms) AS q,
               array_to_string(ARRAY(
                   SELECT quote_literal(p_user::text || 'u' || t.lexeme)
                   FROM unnest(to_tsvector('english', p_terms)) AS t), ' & ')::tsquery AS k),
    hits AS (
        SELECT m.id AS hit_id, ts_rank(m.search_vector, terms.q) AS hit_rank
        FROM messages m, terms
        WHERE messaging_search_keys(m.sender_id, m.recipient_id, m.search_vector) @@ terms.k
          AND m.deleted_for_everyone_at IS NULL
          AND CASE WHEN m.sender_id = p_user THEN NOT m.deleted_by_sender
                   ELSE NOT m.deleted_by_recipient END),
    page AS (
        SELECT hit_id, hit_rank FROM hits ORDER BY hit_rank DESC, hit_id DESC
        LIMIT p_limit OFFSET p_offset)
    SELECT m.id, m.conversation_id, m.sender_id, m.recipient_id, m.booking_id, m.subject, m.body,
           m.parent_id, m.created_at, m.read_at, m.edited_at, m.deleted_by_sender,
           m.deleted_by_recipient, m.deleted_for_everyone_at, m.deleted_at,
           (SELECT count(*) FROM hits)
    FROM page JOIN messages m ON m.id = page.hit_id
    ORDER BY page.hit_rank DESC, page.hit_id DESC;
END $$;

CREATE FUNCTION messaging_search_count(p_user BIGINT, p_terms TEXT)
RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$
DECLARE
    result BIGINT;
BEGIN
    SELECT count(*) INTO result
    FROM messages m
    WHERE messaging_search_keys(m.sender_id, m.recipient_id, m.search_vector) @@
          array_to_string(ARRAY(
              SELECT quote_literal(p_user::text || 'u' || t.lexeme)
              FROM unnest(to_tsvector('english', p_terms)) AS t), ' & ')::tsquery
      AND m.deleted_for_everyone_at IS NULL
      AND CASE WHEN m.sender_id = p_user THEN NOT m.deleted_by_sender
               ELSE NOT m.deleted_by_recipient END;
    RETURN result;
END $$;
