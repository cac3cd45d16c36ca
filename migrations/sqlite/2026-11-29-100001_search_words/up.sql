-- Search finds the same messages on both databases: the words of a message are computed once, by
-- the domain (`messaging_domain::text::message_words`: runs of letters and digits, lower-cased),
-- stored space-separated in `search_words`, and indexed as given. The `ascii` tokenizer splits
-- them at the spaces only (the words hold no other ASCII separator) and leaves them unchanged;
-- the Porter stemmer is gone, since a query word matches the beginning of a word (`budg` finds
-- "budget"), the same on PostgreSQL.
ALTER TABLE messages ADD COLUMN search_words TEXT;
-- Messages stored before this migration get their words from the store at start-up.
CREATE INDEX messages_words_missing ON messages (id) WHERE search_words IS NULL;

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_words USING fts5(
    search_words, content = 'messages', content_rowid = 'id', tokenize = 'ascii'
);
CREATE TRIGGER messages_words_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_words (rowid, search_words) VALUES (new.id, new.search_words);
END;
CREATE TRIGGER messages_words_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_words (messages_words, rowid, search_words) VALUES ('delete', old.id, old.search_words);
END;
CREATE TRIGGER messages_words_update AFTER UPDATE OF search_words ON messages BEGIN
    INSERT INTO messages_words (messages_words, rowid, search_words) VALUES ('delete', old.id, old.search_words);
    INSERT INTO messages_words (rowid, search_words) VALUES (new.id, new.search_words);
END;
