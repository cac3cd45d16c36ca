//! The domain's password-hashing port over argon2id, run off the async threads.

use async_trait::async_trait;
use messaging_domain::StoreError;
use messaging_domain::password::PasswordHasher;

use crate::auth::{Secret, hash_password};

/// argon2id with the crate's defaults (OWASP's minimum), on the blocking pool.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Hasher;

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: String) -> Result<String, StoreError> {
        let password = Secret::new(password);
        actix_web::web::block(move || hash_password(password.expose()))
            .await
            .map_err(StoreError::backend)?
            .map_err(StoreError::backend)
    }

    async fn verify(&self, password: String, hash: String) -> Result<bool, StoreError> {
        let password = Secret::new(password);
        actix_web::web::block(move || {
            use argon2::PasswordVerifier;
            argon2::Argon2::default()
                .verify_password(password.expose().as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .map_err(StoreError::backend)
    }
}
