-- Search finds the same messages on both databases: the words of a message are computed once, by
-- the domain (`messaging_domain::text::message_words`: runs of letters and digits, lower-cased),
-- stored space-separated in `search_words`, and indexed as given. PostgreSQL's own parser read
-- "SECRET-27993725" as `secret` and `-27993725`, so `27993725` found it on SQLite only.
-- Each query word matches the beginning of a word (`budg` finds "budget"): a prefix match on the
-- caller's own keys (`<user id>u<word>`), which GIN answers from the index.
ALTER TABLE messages ADD COLUMN search_words TEXT;
-- Messages stored before this migration get their words from the store at start-up; this index
-- finds them, and is empty afterwards.
CREATE INDEX messages_words_missing ON messages (id) WHERE search_words IS NULL;

CREATE FUNCTION messaging_word_keys(sender BIGINT, recipient BIGINT, words TEXT)
RETURNS TSVECTOR LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT p.party::text || 'u' || w
        FROM unnest(string_to_array(words, ' ')) AS w, (VALUES (sender), (recipient)) AS p(party)
        WHERE w <> ''))
$$;

DROP INDEX messages_search_keys;
CREATE INDEX messages_search_words ON messages
    USING GIN (messaging_word_keys(sender_id, recipient_id, search_words));

-- `p_terms` is the query's words (`SearchQuery::terms`), space-separated: letters and digits
-- only, which makes quoting them into a tsquery safe. Every word must begin a word of the
-- message. The rank (`ts_rank` over the stored English vector) only orders the matches.
CREATE OR REPLACE FUNCTION messaging_word_query(p_user BIGINT, p_terms TEXT)
RETURNS TSQUERY LANGUAGE sql IMMUTABLE AS $$
    SELECT array_to_string(ARRAY(
        SELECT quote_literal(p_user::text || 'u' || t) || ':*'
        FROM unnest(string_to_array(p_terms, ' ')) AS t WHERE t <> ''), ' & ')::tsquery
$$;

CREATE OR REPLACE FUNCTION messaging_search(p_user BIGINT, p_terms TEXT, p_limit BIGINT, p_offset BIGINT)
RETURNS TABLE (
    id BIGINT, conversation_id BIGINT, sender_id BIGINT, recipient_id BIGINT, booking_id BIGINT,
    subject TEXT, body TEXT, parent_id BIGINT, created_at TIMESTAMPTZ, read_at TIMESTAMPTZ,
    edited_at TIMESTAMPTZ, deleted_by_sender BOOLEAN, deleted_by_recipient BOOLEAN,
    deleted_for_everyone_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ, total BIGINT
) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    -- MATERIALIZED: computed once, not once per match in the sort key.
    WITH terms AS MATERIALIZED (
        SELECT to_tsquery('english', array_to_string(ARRAY(
                   SELECT quote_literal(t) || ':*'
                   FROM unnest(string_to_array(p_terms, ' ')) AS t WHERE t <> ''), ' | ')) AS q,
               messaging_word_query(p_user, p_terms) AS k),
    hits AS (
        SELECT m.id AS hit_id, ts_rank(m.search_vector, terms.q) AS hit_rank
        FROM messages m, terms
        WHERE messaging_word_keys(m.sender_id, m.recipient_id, m.search_words) @@ terms.k
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

CREATE OR REPLACE FUNCTION messaging_search_count(p_user BIGINT, p_terms TEXT)
RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$
DECLARE
    result BIGINT;
BEGIN
    SELECT count(*) INTO result
    FROM messages m
    WHERE messaging_word_keys(m.sender_id, m.recipient_id, m.search_words) @@
          messaging_word_query(p_user, p_terms)
      AND m.deleted_for_everyone_at IS NULL
      AND CASE WHEN m.sender_id = p_user THEN NOT m.deleted_by_sender
               ELSE NOT m.deleted_by_recipient END;
    RETURN result;
END $$;
