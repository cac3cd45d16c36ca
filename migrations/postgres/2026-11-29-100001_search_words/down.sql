DROP INDEX messages_search_words;
CREATE INDEX messages_search_keys ON messages
    USING GIN (messaging_search_keys(sender_id, recipient_id, search_vector));
DROP FUNCTION messaging_word_query(BIGINT, TEXT);
DROP FUNCTION messaging_word_keys(BIGINT, BIGINT, TEXT);
DROP INDEX messages_words_missing;
ALTER TABLE messages DROP COLUMN search_words;
-- The search functions of the init migration are not restored here; re-run it to get them back.
