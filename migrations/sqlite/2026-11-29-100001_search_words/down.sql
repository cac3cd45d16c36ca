DROP TRIGGER messages_words_insert;
DROP TRIGGER messages_words_delete;
DROP TRIGGER messages_words_update;
DROP TABLE messages_words;
DROP INDEX messages_words_missing;
ALTER TABLE messages DROP COLUMN search_words;
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
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
