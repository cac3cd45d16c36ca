//! Changing one's password: the current password must be given, the new one follows the
//! registration rule (8 to 128 characters), and every other session and refresh token of the
//! account is revoked in the same transaction as the change, so a stolen session dies with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::audit::{AuditAction, AuditRecord};
use crate::error::{StoreError, ValidationError};
use crate::ports::{Clock, Directory};
use crate::service::Actor;
use crate::user::UserId;

#[cfg(test)]
mod tests;

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 8;
/// The longest password accepted (argon2 would take longer on longer ones for no gain).
pub const MAX_PASSWORD: usize = 128;

/// A new password that meets the rule. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

impl NewPassword {
    /// Checks the length, in characters.
    ///
    /// # Errors
    /// [`ValidationError`] for the field `new_password`.
    pub fn parse(raw: String) -> Result<Self, ValidationError> {
        let length = raw.chars().count();
        if length < MIN_PASSWORD {
            return Err(ValidationError::TooShort {
                field: "new_password",
                min: MIN_PASSWORD,
            });
        }
        if length > MAX_PASSWORD {
            return Err(ValidationError::TooLong {
                field: "new_password",
                max: MAX_PASSWORD,
            });
        }
        Ok(Self(raw))
    }

    /// The password itself; call only where it is hashed.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Password hashing, which the server owns (argon2id, off the async threads).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when hashing fails.
    async fn hash(&self, password: String) -> Result<String, StoreError>;

    /// Whether `password` matches `hash`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the check cannot run.
    async fn verify(&self, password: String, hash: String) -> Result<bool, StoreError>;
}

/// Stored password hashes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordStore: Send + Sync + 'static {
    /// The user's password hash.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn password_hash(&self, user: UserId) -> Result<String, StoreError>;

    /// Replaces the hash, revokes every refresh token of the user and every session but the one
    /// whose id hash is `keep_session`, and writes the audit record, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn replace_password(
        &self,
        user: UserId,
        hash: String,
        keep_session: Option<String>,
        at: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError>;
}

/// Why a password change was refused.
#[derive(Debug, Error)]
pub enum PasswordError {
    /// The current password given is wrong.
    #[error("the current password is not right")]
    WrongPassword,
    /// The new password breaks the rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The caller's account is unknown or deactivated.
    #[error("this account is not active")]
    AccountInactive,
    /// The store or the hasher failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The password use case.
#[derive(Debug)]
pub struct PasswordService<S, H, D, C> {
    store: S,
    hasher: H,
    directory: D,
    clock: C,
}

impl<S, H, D, C> PasswordService<S, H, D, C>
where
    S: PasswordStore,
    H: PasswordHasher,
    D: Directory,
    C: Clock,
{
    /// Builds the service over its ports.
    pub fn new(store: S, hasher: H, directory: D, clock: C) -> Self {
        Self {
            store,
            hasher,
            directory,
            clock,
        }
    }

    /// Changes the caller's password after checking the current one; every other session and
    /// every refresh token of the account stops working. `keep_session` is the id hash of the
    /// session making the change (a browser stays logged in where it changed the password).
    ///
    /// # Errors
    /// [`PasswordError`] naming the rule that stopped it.
    pub async fn change(
        &self,
        actor: &Actor,
        current: String,
        new: String,
        keep_session: Option<String>,
    ) -> Result<(), PasswordError> {
        let new = NewPassword::parse(new)?;
        match self.directory.user(actor.user_id).await? {
            Some(user) if user.is_active => {}
            _ => return Err(PasswordError::AccountInactive),
        }
        let stored = self.store.password_hash(actor.user_id).await?;
        if !self.hasher.verify(current, stored).await? {
            return Err(PasswordError::WrongPassword);
        }
        let hash = self.hasher.hash(new.expose().to_owned()).await?;
        let at = self.clock.now();
        let audit = AuditRecord {
            actor: Some(actor.user_id),
            action: AuditAction::PasswordChanged,
            object_type: "user",
            object_id: Some(actor.user_id.0),
            at,
            client_addr: actor.client_addr.clone(),
        };
        self.store
            .replace_password(actor.user_id, hash, keep_session, at, audit)
            .await?;
        Ok(())
    }
}
