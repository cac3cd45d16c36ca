CREATE OR REPLACE FUNCTION messaging_word_keys(sender BIGINT, recipient BIGINT, words TEXT)
RETURNS TSVECTOR LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT p.party::text || 'u' || w
        FROM unnest(string_to_array(words, ' ')) AS w, (VALUES (sender), (recipient)) AS p(party)
        WHERE w <> ''))
$$;
