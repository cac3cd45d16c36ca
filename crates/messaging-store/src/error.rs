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
