//! Authentication: the one decision every request and every socket goes through. The account
//! must exist and be active, a token or ticket must carry the account's current credential
//! version, and a browser session must be open, recently used and younger than its absolute
//! lifetime.

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use super::{AccountService, AccountStore};
use crate::accounts::{AccountStatus, Credential, Principal, SessionKey};
use crate::error::StoreError;
use crate::ports::{AccountStatuses, AuditLog, Clock, EventPublisher, PasswordHasher};
use crate::user::UserId;

/// Why a credential was refused.
#[derive(Debug, Error)]
pub enum AuthError {
    /// Unknown, revoked, forged or stale: the same answer for each, so that nothing is learned.
    #[error("not authenticated")]
    Unauthenticated,
    /// The account was deactivated.
    #[error("account inactive")]
    AccountInactive,
    /// The browser session ran out (idle too long, or older than its absolute lifetime).
    #[error("session expired")]
    SessionExpired,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<A, L, S, H, E, C> AccountService<A, L, S, H, E, C>
where
    A: AccountStore,
    L: AuditLog,
    S: AccountStatuses,
    H: PasswordHasher,
    E: EventPublisher,
    C: Clock,
{
    /// Decides whether a credential lets its holder act now, and as whom. Every authenticated
    /// request and every WebSocket goes through here.
    ///
    /// # Errors
    /// [`AuthError`] naming why not.
    pub async fn authenticate(&self, credential: Credential) -> Result<Principal, AuthError> {
        let now = self.clock.now();
        match credential {
            Credential::AccessToken { user_id, version } => {
                let status = self.active_status(user_id).await?;
                if status.credential_version != version {
                    return Err(AuthError::Unauthenticated);
                }
                Ok(Principal {
                    user_id,
                    role: status.role,
                    credential_version: status.credential_version,
                    session: None,
                    valid_until: None,
                })
            }
            Credential::Session(key) => self.session_principal(key, now, true).await,
            Credential::Ticket(hash) => {
                let ticket = self
                    .accounts
                    .redeem_ws_ticket(hash, now)
                    .await?
                    .filter(|t| t.expires_at > now)
                    .ok_or(AuthError::Unauthenticated)?;
                let principal = match ticket.session {
                    Some(key) => self.session_principal(key, now, false).await?,
                    None => {
                        let status = self.active_status(ticket.user_id).await?;
                        Principal {
                            user_id: ticket.user_id,
                            role: status.role,
                            credential_version: status.credential_version,
                            session: None,
                            valid_until: None,
                        }
                    }
                };
                if principal.user_id != ticket.user_id
                    || principal.credential_version != ticket.credential_version
                {
                    return Err(AuthError::Unauthenticated);
                }
                Ok(principal)
            }
        }
    }

    async fn active_status(&self, user: UserId) -> Result<AccountStatus, AuthError> {
        let status = self
            .statuses
            .account_status(user)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        if !status.active {
            return Err(AuthError::AccountInactive);
        }
        Ok(status)
    }

    /// The principal behind an open browser session. `touch` records the use (at most once a
    /// minute, which keeps the idle timer right without a write per request).
    async fn session_principal(
        &self,
        key: SessionKey,
        now: DateTime<Utc>,
        touch: bool,
    ) -> Result<Principal, AuthError> {
        let session = self
            .accounts
            .session(key.0.clone())
            .await?
            .filter(|s| s.revoked_at.is_none())
            .ok_or(AuthError::Unauthenticated)?;
        let valid_until = session.created_at + self.policy.session_max_age;
        if now - session.last_seen_at > self.policy.session_idle || now >= valid_until {
            self.accounts.revoke_session(key.0, now).await?;
            return Err(AuthError::SessionExpired);
        }
        let status = self.active_status(session.user_id).await?;
        if touch && now - session.last_seen_at > TimeDelta::seconds(60) {
            self.accounts.touch_session(key.0.clone(), now).await?;
        }
        Ok(Principal {
            user_id: session.user_id,
            role: status.role,
            credential_version: status.credential_version,
            session: Some(key),
            valid_until: Some(valid_until),
        })
    }
}
