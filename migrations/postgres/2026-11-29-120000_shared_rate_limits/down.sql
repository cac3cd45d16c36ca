DROP FUNCTION messaging_rate_take(TEXT[], BIGINT[], INT[]);
DROP TABLE rate_limits;
