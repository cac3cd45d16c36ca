DROP TABLE ws_tickets;
DROP TABLE presence_connections;
DROP TABLE presence_settings;
DROP TABLE message_deliveries;
DROP TABLE user_events;
DROP TABLE event_heads;
