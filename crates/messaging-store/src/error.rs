//! Translation of diesel's errors into the domain's [`StoreError`], at the adapter's boundary.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use messaging_domain::StoreError;

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
                info,
            )) => {
                // PostgreSQL names the index; SQLite names the index or the column in its message.
                let text = format!(
                    "{} {}",
                    info.constraint_name().unwrap_or_default(),
                    info.message()
                );
                if text.contains("client_message_id") {
                    StoreError::Duplicate("client_message_id")
                } else if text.contains("username") {
                    StoreError::Duplicate("username")
                } else if text.contains("email") {
                    StoreError::Duplicate("email")
                } else {
                    StoreError::Duplicate("record")
                }
            }
            other => StoreError::backend(other),
        }
    }
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
