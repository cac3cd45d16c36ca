//! Bulk seeding for benchmarks: users, conversations and messages generated inside PostgreSQL with
//! `generate_series`, so that a million messages take seconds to minutes rather than hours. Power
//! users get thousands of conversations each, the shape that breaks an N+1 inbox.

use messaging_domain::StoreError;

use crate::{DatabaseKind, Store};

/// The words message bodies are made of. Bodies draw from them with different strides, so each
/// word appears in a few percent of messages, like a common word in real text.
pub const VOCABULARY: &[&str] = &[
    "algebra",
    "biology",
    "calculus",
    "chemistry",
    "physics",
    "history",
    "geography",
    "poetry",
    "essay",
    "grammar",
    "vocabulary",
    "statistics",
    "geometry",
    "trigonometry",
    "economics",
    "philosophy",
    "astronomy",
    "ecology",
    "genetics",
    "anatomy",
    "lesson",
    "homework",
    "exam",
    "quiz",
    "project",
    "deadline",
    "schedule",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "morning",
    "afternoon",
    "evening",
    "tomorrow",
    "yesterday",
    "practice",
    "revision",
    "notes",
    "chapter",
    "exercise",
    "problem",
    "solution",
    "answer",
    "question",
    "example",
    "theory",
    "formula",
    "equation",
    "derivative",
    "integral",
    "matrix",
    "vector",
    "probability",
    "hypothesis",
    "experiment",
    "laboratory",
    "reading",
    "writing",
    "speaking",
    "listening",
    "pronunciation",
    "translation",
    "literature",
    "novel",
    "author",
    "character",
    "analysis",
    "argument",
    "evidence",
    "conclusion",
    "introduction",
    "paragraph",
    "sentence",
    "feedback",
    "progress",
    "improvement",
    "confidence",
    "motivation",
    "focus",
    "anxiety",
    "therapy",
    "session",
    "appointment",
    "medication",
    "sleep",
    "exercise",
    "diet",
    "mood",
    "journal",
    "breathing",
    "mindfulness",
    "support",
    "family",
    "friends",
    "work",
    "school",
    "weekend",
    "holiday",
    "travel",
    "music",
    "piano",
    "guitar",
    "violin",
    "drawing",
    "painting",
    "coding",
    "python",
    "rust",
    "database",
    "network",
    "security",
    "design",
    "budget",
    "meeting",
    "invoice",
    "payment",
    "refund",
    "booking",
    "cancel",
    "reschedule",
    "confirm",
    "thanks",
    "great",
    "perfect",
    "sorry",
    "please",
    "question",
    "quick",
    "later",
    "online",
    "video",
    "camera",
    "microphone",
    "screen",
    "share",
    "document",
    "upload",
    "download",
    "library",
    "textbook",
    "worksheet",
    "flashcards",
    "summary",
    "outline",
];

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkSpec {
    /// Users in all (power users included).
    pub users: i64,
    /// Messages in all.
    pub messages: i64,
    /// Users who get `power_conversations` conversations each.
    pub power_users: i64,
    /// Conversations per power user.
    pub power_conversations: i64,
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkReport {
    /// The first generated user's id; power users are the first `power_users` ids from here.
    pub first_user_id: i64,
    /// Conversations created.
    pub conversations: i64,
    /// How long each phase took, for the report.
    pub phases: String,
}

/// Generates `spec` into an empty database (users named `bulk<n>`, all with `password_hash`).
///
/// # Errors
/// [`StoreError::Backend`] on SQLite (bulk seeding is PostgreSQL-only), when bulk users already
/// exist, when the spec is inconsistent, or when the database fails.
pub async fn seed(
    store: &Store,
    spec: BulkSpec,
    password_hash: &str,
) -> Result<BulkReport, StoreError> {
    if store.kind() != DatabaseKind::Postgres {
        return Err(StoreError::Backend(
            "bulk seeding needs PostgreSQL (set DATABASE_URL=postgres://...)".into(),
        ));
    }
    let regular_users = spec.users - spec.power_users;
    if spec.users < 2 || spec.power_users < 0 || regular_users < 2 {
        return Err(StoreError::Backend("bulk seed: too few users".into()));
    }
    if spec.power_conversations > regular_users {
        return Err(StoreError::Backend(
            "bulk seed: power_conversations exceeds the number of regular users".into(),
        ));
    }
    if !password_hash
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "$=,+/.-".contains(c))
    {
        return Err(StoreError::Backend(
            "bulk seed: unexpected password hash".into(),
        ));
    }
    let words = VOCABULARY
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(",");
    let n_words = VOCABULARY.len();
    let users = spec.users;
    let messages = spec.messages;
    let power = spec.power_users;
    let per_power = spec.power_conversations;
    // Ordinary conversations: two per regular user, each between user i and user i+d (d = 1, 2),
    // which never repeats a pair.
    let regular_conversations = regular_users * 2;
    let steps: Vec<(&'static str, String)> = vec![
        (
            "prepare",
            r"
BEGIN;
-- Building the search index once after the load is several times faster than maintaining it
-- row by row; its definition is read back from the catalog so it cannot drift from the migration.
SET LOCAL maintenance_work_mem = '256MB';
CREATE TEMP TABLE bulk_index ON COMMIT DROP AS
    SELECT pg_get_indexdef('messages_search_words'::regclass) AS definition;
DROP INDEX messages_search_words;
CREATE TEMP TABLE bulk_base ON COMMIT DROP AS SELECT COALESCE(MAX(id), 0) AS base FROM users;
"
            .to_owned(),
        ),
        (
            "users",
            format!(
                r"
INSERT INTO users (username, email, password_hash, first_name, last_name, role, is_active, created_at)
SELECT 'bulk' || g, 'bulk' || g || '@example.test', '{password_hash}', 'First' || g, 'Last' || g,
       CASE WHEN g % 2 = 0 THEN 'student' ELSE 'tutor' END, TRUE, now() - interval '400 days'
FROM generate_series(1, {users}) g;
"
            ),
        ),
        (
            "conversations",
            format!(
                r"
CREATE TEMP TABLE bulk_pairs ON COMMIT DROP AS
SELECT row_number() OVER () AS n, a, b FROM (
    SELECT b0.base + p AS a, b0.base + {power} + 1 + ((k + p * {per_power}) % {regular_users}) AS b
    FROM bulk_base b0, generate_series(1, {power}) p, generate_series(0, {per_power} - 1) k
    UNION ALL
    SELECT b0.base + {power} + 1 + (i % {regular_users}),
           b0.base + {power} + 1 + ((i % {regular_users}) + (i / {regular_users}) + 1) % {regular_users}
    FROM bulk_base b0, generate_series(0, {regular_conversations} - 1) i
) pairs;

CREATE TEMP TABLE bulk_conversations ON COMMIT DROP AS
WITH inserted AS (
    INSERT INTO conversations (user_low, user_high, booking_id, started_by, created_at)
    SELECT LEAST(a, b), GREATEST(a, b), NULL, a, now() - interval '365 days'
    FROM bulk_pairs ORDER BY n
    RETURNING id, user_low, user_high
)
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, user_low, user_high FROM inserted;
"
            ),
        ),
        (
            "messages",
            format!(
                r"
INSERT INTO messages (conversation_id, sender_id, recipient_id, subject, body, search_words,
                      created_at, read_at, deleted_by_sender, deleted_by_recipient)
SELECT c.id,
       CASE WHEN (g / t.total) % 2 = 0 THEN c.user_low ELSE c.user_high END,
       CASE WHEN (g / t.total) % 2 = 0 THEN c.user_high ELSE c.user_low END,
       NULL,
       b.text,
       -- Lower-case vocabulary words and a number: already the domain's words of the body.
       b.text,
       now() - ({messages} - g) * interval '1 second',
       CASE WHEN g < {messages} * 9 / 10 THEN now() - ({messages} - g) * interval '1 second' END,
       FALSE, FALSE
FROM generate_series(0, {messages} - 1) g
CROSS JOIN (SELECT count(*) AS total FROM bulk_conversations) t
CROSS JOIN (SELECT ARRAY[{words}] AS w) v
CROSS JOIN LATERAL (SELECT
       w[1 + (g * 7) % {n_words}] || ' ' || w[1 + (g * 13 + 5) % {n_words}] || ' ' ||
       w[1 + (g * 31 + 11) % {n_words}] || ' ' || w[1 + (g * 61 + 3) % {n_words}] || ' ' ||
       w[1 + (g * 97 + 17) % {n_words}] || ' ' || w[1 + (g * 127 + 29) % {n_words}] || ' message ' || g
       AS text) b
JOIN bulk_conversations c ON c.n = g % t.total;
"
            ),
        ),
        (
            "thread rows",
            r"
INSERT INTO conversation_members (conversation_id, user_id, other_user_id, booking_id,
                                  last_message_id, last_message_at, unread_count)
SELECT c.id, side.me, side.other, NULL, s.last_id, s.last_at,
       CASE WHEN side.me = c.user_low THEN s.unread_low ELSE s.unread_high END
FROM bulk_conversations c
JOIN (
    SELECT conversation_id, max(id) AS last_id, max(created_at) AS last_at,
           count(*) FILTER (WHERE read_at IS NULL AND recipient_id < sender_id) AS unread_low,
           count(*) FILTER (WHERE read_at IS NULL AND recipient_id > sender_id) AS unread_high
    FROM messages WHERE conversation_id IN (SELECT id FROM bulk_conversations)
    GROUP BY conversation_id
) s ON s.conversation_id = c.id
CROSS JOIN LATERAL (VALUES (c.user_low, c.user_high), (c.user_high, c.user_low)) side(me, other);
"
            .to_owned(),
        ),
        (
            "search index",
            r"
DO $$ BEGIN EXECUTE (SELECT definition FROM bulk_index); END $$;
COMMIT;
"
            .to_owned(),
        ),
        // Sets hint bits and the visibility map and refreshes statistics, as autovacuum would
        // later; it cannot run inside the transaction above.
        ("vacuum analyze", "VACUUM ANALYZE".to_owned()),
    ];
    let timings = store.run_steps(&steps).await?;
    let phases = timings
        .iter()
        .map(|(name, d)| format!("{name} {:.1} s", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut report = store.bulk_report().await?;
    report.phases = phases;
    Ok(report)
}

/// `VACUUM ANALYZE` of the whole database: hint bits, the visibility map and fresh statistics,
/// as autovacuum would give tables that just grew several times over. For benchmarks whose
/// set-up writes such a burst, so that their timed phases neither meet that vacuum nor run on
/// plans made for nearly empty tables. Returns how long it took.
///
/// # Errors
/// [`StoreError::Backend`] on SQLite, or when the database fails.
pub async fn vacuum_analyze(store: &Store) -> Result<std::time::Duration, StoreError> {
    if store.kind() != DatabaseKind::Postgres {
        return Err(StoreError::Backend(
            "VACUUM ANALYZE needs PostgreSQL".into(),
        ));
    }
    let steps = [("vacuum analyze", "VACUUM ANALYZE".to_owned())];
    let timings = store.run_steps(&steps).await?;
    Ok(timings.iter().map(|(_, d)| *d).sum())
}
