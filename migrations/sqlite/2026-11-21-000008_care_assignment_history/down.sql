DELETE FROM care_assignments WHERE ended_at IS NOT NULL;
ALTER TABLE care_assignments DROP COLUMN ended_at;
