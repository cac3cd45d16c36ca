-- The client's own id for a message (an Idempotency-Key header or a client_message_id field): a
-- retried send finds the message it already created instead of creating a second one.
ALTER TABLE messages ADD COLUMN client_message_id TEXT;
CREATE UNIQUE INDEX messages_client_message_id ON messages (sender_id, client_message_id)
    WHERE client_message_id IS NOT NULL;
