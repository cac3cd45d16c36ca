//! Translation of diesel's errors into the domain's [`StoreError`], at the adapter's boundary.

use diesel::result::DatabaseErrorInformation;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use messaging_domain::{StoreError, Unique};

/// An error inside the store: diesel's, or one the store raises itself.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error(transparent)]
    Diesel(#[from] DieselError),
    #[error("{0}")]
    Domain(StoreError),
    /// A stored value the domain cannot read (a role name that is not a role, ...).
    #[error("unreadable value in {0}")]
    Corrupt(&'static str),
}

impl From<DbError> for StoreError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Domain(err) => err,
            DbError::Diesel(DieselError::NotFound) => StoreError::NotFound,
            DbError::Diesel(err) if connection_lost(&err) => StoreError::unavailable(err),
            DbError::Diesel(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                ref info,
            )) => match unique_rule(info.as_ref()) {
                Some(rule) => StoreError::Duplicate(rule),
                // A uniqueness rule no use case knows of is a fault, not a client's duplicate.
                None => StoreError::backend(err),
            },
            other => StoreError::backend(other),
        }
    }
}

/// PostgreSQL's names of the unique indexes and constraints the domain knows.
const CONSTRAINTS: &[(&str, Unique)] = &[
    ("messages_client_message_id", Unique::ClientMessageId),
    ("users_username_key", Unique::Username),
    ("users_email_key", Unique::Email),
    ("attachments_storage_key_key", Unique::StorageKey),
    ("pending_uploads_pkey", Unique::StorageKey),
];

/// What SQLite names after `UNIQUE constraint failed: ` for the same rules: the columns, or the
/// index when it is on an expression (`lower(username)`).
const SQLITE_TARGETS: &[(&str, Unique)] = &[
    (
        "messages.sender_id, messages.client_message_id",
        Unique::ClientMessageId,
    ),
    ("index 'users_username_key'", Unique::Username),
    ("users.email", Unique::Email),
    ("attachments.storage_key", Unique::StorageKey),
    ("pending_uploads.storage_key", Unique::StorageKey),
];

/// The rule a unique violation broke: by constraint name where the database gives one
/// (PostgreSQL), else by the target SQLite names in its message. Unknown ones are `None`.
fn unique_rule(info: &dyn DatabaseErrorInformation) -> Option<Unique> {
    let (table, name) = match info.constraint_name() {
        Some(name) => (CONSTRAINTS, name),
        None => (
            SQLITE_TARGETS,
            info.message().strip_prefix("UNIQUE constraint failed: ")?,
        ),
    };
    table
        .iter()
        .find(|(known, _)| *known == name)
        .map(|&(_, rule)| rule)
}

/// Whether diesel's error means the database could not be reached (rather than that it refused
/// the statement): the connection was lost or refused, or the server is shutting down or starting
/// up. The same request may then succeed later.
fn connection_lost(err: &DieselError) -> bool {
    match err {
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            // SQLSTATE classes 08 (connection exception) and 57 (operator intervention: admin or
            // crash shutdown, cannot connect now) reach us as text only.
            let message = info.message();
            message.starts_with("terminating connection")
                || message.starts_with("the database system is")
                || message.contains("connection to server")
        }
        _ => false,
    }
}

/// A failure to get a connection from the pool: the database cannot be reached.
pub(crate) fn pool_error(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::unavailable(err)
}
