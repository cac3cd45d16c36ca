//! Password hashing, slow on purpose and bounded by its adapter.

use async_trait::async_trait;

use crate::accounts::Password;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot and the queue in front of them are taken: try again shortly.
    #[error("password hashing is at capacity")]
    Busy,
    /// The hasher failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Password hashing (argon2id in the server), slow on purpose and bounded in concurrency by the
/// adapter.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a new password into a self-describing (PHC) string.
    ///
    /// # Errors
    /// [`HashError`] when at capacity or failing.
    async fn hash(&self, password: Password) -> Result<String, HashError>;

    /// Checks a password against a stored hash. With `None` (an unknown user) it does the same
    /// work against a dummy hash and answers `false`, so that unknown and known names take as
    /// long to refuse.
    ///
    /// # Errors
    /// [`HashError`] when at capacity or failing.
    async fn verify(&self, password: Password, hash: Option<String>) -> Result<bool, HashError>;
}
