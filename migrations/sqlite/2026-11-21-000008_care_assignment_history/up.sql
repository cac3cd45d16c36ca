-- An unassignment ends a care assignment instead of deleting it: the contact rules tell a
-- clinician "not assigned" only about a patient they were once assigned to, and tell everyone
-- else nothing about who is a patient.
ALTER TABLE care_assignments ADD COLUMN ended_at TEXT;
