//! Errors shared by several use cases.

use thiserror::Error;

/// Why a piece of user input was refused. Each variant names the field and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    /// The field is empty once cleaned.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name as the API spells it.
        field: &'static str,
    },
    /// The field is longer than allowed, counted in characters.
    #[error("{field} must be at most {max} characters")]
    TooLong {
        /// The field's name as the API spells it.
        field: &'static str,
        /// The largest allowed length.
        max: usize,
    },
    /// The field is shorter than allowed, counted in characters.
    #[error("{field} must be at least {min} characters")]
    TooShort {
        /// The field's name as the API spells it.
        field: &'static str,
        /// The smallest allowed length.
        min: usize,
    },
    /// A number is outside its range.
    #[error("{field} must be between {min} and {max}")]
    OutOfRange {
        /// The field's name as the API spells it.
        field: &'static str,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// The field does not have the required shape (an email address, a user name, ...).
    #[error("{field} is not valid: {reason}")]
    Malformed {
        /// The field's name as the API spells it.
        field: &'static str,
        /// What shape was expected.
        reason: &'static str,
    },
}

impl ValidationError {
    /// The name of the field that failed.
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::TooShort { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::Malformed { field, .. } => field,
        }
    }
}

/// A failure of a storage adapter, translated at its boundary so that no adapter type leaks upward.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row the operation needed is not there (or not visible to the caller).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the variant names which.
    #[error("duplicate {0}")]
    Duplicate(Unique),
    /// The store failed; the source carries the cause for the logs.
    #[error("storage failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store cannot be reached right now (connection refused or lost, the database restarting):
    /// the same request may succeed later. Adapters log the outage once, not each failure.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps any adapter error as a backend failure.
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }

    /// Wraps an adapter error that means the store cannot be reached right now.
    pub fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

/// The uniqueness rules a store keeps, named so that a use case can tell which one a write broke
/// without reading the adapter's error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unique {
    /// A sender's client message id: a second message with the same one is a retry of the first.
    ClientMessageId,
    /// A login name, compared case-insensitively.
    Username,
    /// An email address.
    Email,
    /// An attachment's storage key (a stored attachment's or a pending upload's).
    StorageKey,
}

impl Unique {
    /// The rule's stable name, as the API and the logs spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientMessageId => "client_message_id",
            Self::Username => "username",
            Self::Email => "email",
            Self::StorageKey => "storage_key",
        }
    }
}

impl std::fmt::Display for Unique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
