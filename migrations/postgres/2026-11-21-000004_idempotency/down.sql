DROP INDEX messages_client_message_id;
ALTER TABLE messages DROP COLUMN client_message_id;
