//! The account use cases: registration, login, the authentication of every request and socket,
//! token refresh, logout, password changes and WebSocket tickets.
//!
//! Whether a credential still lets its holder act is decided in one place,
//! [`AccountService::authenticate`]: the account must exist and be active, a token or ticket must
//! carry the account's current credential version, and a browser session must be open, recently
//! used and younger than its absolute lifetime. Every route and every socket goes through it, so a
//! deactivation takes effect everywhere at once rather than route by route.
//!
//! That decision has a file of its own, `service/accounts/authentication.rs`, with its error
//! ([`AuthError`]); this one holds the rest of the account's life: registration, login, refresh,
//! logout, password changes and tickets.

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use crate::accounts::{
    EmailAddress, NewAccount, Password, Principal, SessionKey, TicketRecord, Username,
};
use crate::audit::{AuditAction, AuditRecord};
use crate::error::{StoreError, Unique};
use crate::ports::{
    AccountStatuses, AuditLog, Clock, Credentials, EventPublisher, HashError, PasswordHasher,
    RefreshOutcome, RefreshTokenRecord, SessionRecord, Sessions, Tickets,
};
use crate::user::{Role, User, UserId};

mod authentication;

pub use authentication::AuthError;

#[cfg(test)]
mod tests;

/// How long credentials live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialPolicy {
    /// A browser session unused for this long ends (System B: 30 minutes).
    pub session_idle: TimeDelta,
    /// A browser session ends this long after it was opened, however busy.
    pub session_max_age: TimeDelta,
    /// How long a refresh token may be exchanged.
    pub refresh_ttl: TimeDelta,
    /// How long a WebSocket ticket may be redeemed.
    pub ticket_ttl: TimeDelta,
}

impl Default for CredentialPolicy {
    fn default() -> Self {
        Self {
            session_idle: TimeDelta::minutes(30),
            session_max_age: TimeDelta::hours(12),
            refresh_ttl: TimeDelta::days(14),
            ticket_ttl: TimeDelta::seconds(30),
        }
    }
}

/// A new account as submitted, parsed.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The login name.
    pub username: Username,
    /// The email address.
    pub email: EmailAddress,
    /// The password, checked against the policy.
    pub password: Password,
    /// Given name (one line, cleaned).
    pub first_name: String,
    /// Family name (one line, cleaned).
    pub last_name: String,
}

/// What a successful login (or refresh) hands out: a browser session, or a token family whose new
/// refresh token the caller generated (the domain sees only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Open a browser session whose id hashes to this.
    Session(SessionKey),
    /// Store a refresh token (by hash) in a family; a login starts a new family.
    Tokens {
        /// SHA-256 of the new refresh token, hex.
        refresh_hash: String,
        /// The family id (new on login, inherited on refresh).
        family: String,
    },
}

/// Who logged in, and the credential version their access token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The account.
    pub user: User,
    /// The account's credential version now.
    pub credential_version: i64,
}

/// Why a registration was refused.
#[derive(Debug, Error)]
pub enum RegisterError {
    /// The user name or the email address is taken (one answer for both, so that registration
    /// cannot be used to find out who has an account).
    #[error("an account with this username or email already exists")]
    Exists,
    /// The password could not be hashed.
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

/// Why a login was refused.
#[derive(Debug, Error)]
pub enum LoginError {
    /// Wrong password, unknown name or inactive account: one answer for all three.
    #[error("incorrect username or password")]
    InvalidCredentials,
    /// The password could not be checked.
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a refresh token was refused.
#[derive(Debug, Error)]
pub enum RefreshError {
    /// Unknown, expired or revoked, or its account is inactive.
    #[error("the refresh token is not valid")]
    Invalid,
    /// Presented a second time (also when two requests present it at once): its whole family is
    /// now revoked.
    #[error("the refresh token was already used")]
    Reused,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a password change was refused.
#[derive(Debug, Error)]
pub enum PasswordChangeError {
    /// The current password given is wrong.
    #[error("the current password is not correct")]
    WrongPassword,
    /// The account is gone or inactive.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The password could not be hashed or checked.
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store ports the account use cases run on, as one bound: accounts and their password
/// hashes, sessions and refresh tokens, and WebSocket tickets. Any type that implements the three
/// is one (a blanket impl).
pub trait AccountStore: Credentials + Sessions + Tickets {}

impl<T> AccountStore for T where T: Credentials + Sessions + Tickets {}

/// The account use cases.
#[derive(Debug)]
pub struct AccountService<A, L, S, H, E, C> {
    accounts: A,
    audit: L,
    statuses: S,
    hasher: H,
    events: E,
    clock: C,
    policy: CredentialPolicy,
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
    /// Builds the service over its ports.
    pub fn new(
        accounts: A,
        audit: L,
        statuses: S,
        hasher: H,
        events: E,
        clock: C,
        policy: CredentialPolicy,
    ) -> Self {
        Self {
            accounts,
            audit,
            statuses,
            hasher,
            events,
            clock,
            policy,
        }
    }

    /// The lifetimes in force.
    pub fn policy(&self) -> &CredentialPolicy {
        &self.policy
    }

    /// Creates an account with `role` (the server's default role for self-registration).
    ///
    /// # Errors
    /// [`RegisterError`] naming why.
    pub async fn register(
        &self,
        form: Registration,
        role: Role,
        client_addr: Option<String>,
    ) -> Result<User, RegisterError> {
        let password_hash = self.hasher.hash(form.password).await?;
        let account = NewAccount {
            username: form.username,
            email: form.email,
            password_hash,
            first_name: form.first_name,
            last_name: form.last_name,
            role,
        };
        let audit = AuditRecord {
            actor: None,
            action: AuditAction::UserRegistered,
            object_type: "user",
            object_id: None,
            at: self.clock.now(),
            client_addr,
        };
        self.accounts
            .create_account(account, audit)
            .await
            .map_err(|e| match e {
                StoreError::Duplicate(Unique::Username | Unique::Email) => RegisterError::Exists,
                other => RegisterError::Store(other),
            })
    }

    /// Checks a user name and password and, when they match an active account, opens the grant
    /// (a session or a token family). Every attempt is audited.
    ///
    /// # Errors
    /// [`LoginError::InvalidCredentials`] for a wrong password, an unknown name or an inactive
    /// account alike.
    pub async fn login(
        &self,
        username: &str,
        password: String,
        grant: Grant,
        client_addr: Option<String>,
    ) -> Result<Authenticated, LoginError> {
        // A name that cannot be a user name (control characters, ...) is an unknown user: it never
        // reaches the store.
        let found = match Username::parse(username) {
            Ok(name) => self.accounts.credentials(name.as_str()).await?,
            Err(_) => None,
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        // An unknown user is checked against a dummy hash, so both refusals take as long; a
        // password longer than any that can be set matches nothing and is not hashed at all.
        let password_ok = match Password::presented(password) {
            Some(password) => self.hasher.verify(password, hash).await?,
            None => false,
        };
        let user = user.filter(|u| password_ok && u.is_active);
        let now = self.clock.now();
        let status = match &user {
            Some(user) => self
                .statuses
                .account_status(user.id)
                .await?
                .filter(|s| s.active),
            None => None,
        };
        let accepted = user.zip(status);
        let audit = AuditRecord {
            actor: accepted.as_ref().map(|(u, _)| u.id),
            action: if accepted.is_some() {
                AuditAction::LoginSucceeded
            } else {
                AuditAction::LoginFailed
            },
            object_type: "user",
            object_id: accepted.as_ref().map(|(u, _)| u.id.0),
            at: now,
            client_addr,
        };
        self.audit.record(audit).await?;
        let Some((user, status)) = accepted else {
            return Err(LoginError::InvalidCredentials);
        };
        self.open(user.id, grant, now).await?;
        Ok(Authenticated {
            user,
            credential_version: status.credential_version,
        })
    }

    /// Exchanges a refresh token (by hash) for a new one in the same family. A token presented
    /// twice, including by two requests at once, revokes its family.
    ///
    /// # Errors
    /// [`RefreshError`] naming why not.
    pub async fn refresh(
        &self,
        presented_hash: String,
        next_hash: String,
        client_addr: Option<String>,
    ) -> Result<Authenticated, RefreshError> {
        let now = self.clock.now();
        let audit = |action, user: UserId| AuditRecord {
            actor: Some(user),
            action,
            object_type: "user",
            object_id: Some(user.0),
            at: now,
            client_addr: client_addr.clone(),
        };
        match self
            .accounts
            .consume_refresh_token(presented_hash, now)
            .await?
        {
            RefreshOutcome::Valid { user_id, family } => {
                let (user, _) = self
                    .accounts
                    .credentials_by_id(user_id)
                    .await?
                    .filter(|(u, _)| u.is_active)
                    .ok_or(RefreshError::Invalid)?;
                let status = self
                    .statuses
                    .account_status(user_id)
                    .await?
                    .filter(|s| s.active)
                    .ok_or(RefreshError::Invalid)?;
                self.audit
                    .record(audit(AuditAction::TokenRefreshed, user_id))
                    .await?;
                self.open(
                    user_id,
                    Grant::Tokens {
                        refresh_hash: next_hash,
                        family,
                    },
                    now,
                )
                .await?;
                Ok(Authenticated {
                    user,
                    credential_version: status.credential_version,
                })
            }
            RefreshOutcome::Reused { user_id } => {
                self.audit
                    .record(audit(AuditAction::RefreshTokenReused, user_id))
                    .await?;
                Err(RefreshError::Reused)
            }
            RefreshOutcome::Invalid => Err(RefreshError::Invalid),
        }
    }

    /// Logs out: closes the principal's browser session (and the sockets opened through it) and
    /// revokes the refresh token family of `refresh_hash`, when given.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is half done that a retry would not finish.
    pub async fn logout(
        &self,
        principal: &Principal,
        refresh_hash: Option<String>,
        client_addr: Option<String>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        if let Some(hash) = refresh_hash {
            self.accounts.revoke_refresh_family(hash, now).await?;
        }
        self.audit
            .record(AuditRecord {
                actor: Some(principal.user_id),
                action: AuditAction::LoggedOut,
                object_type: "user",
                object_id: Some(principal.user_id.0),
                at: now,
                client_addr,
            })
            .await?;
        if let Some(key) = &principal.session {
            self.accounts.revoke_session(key.0.clone(), now).await?;
            self.events.disconnect(principal.user_id, Some(key.clone()));
        }
        Ok(())
    }

    /// Changes the principal's password after checking the current one. Every other credential of
    /// the account stops working (other sessions, every token and refresh token, their sockets);
    /// the browser session the change was made from stays open.
    ///
    /// # Errors
    /// [`PasswordChangeError`] naming why not.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: String,
        new: Password,
        client_addr: Option<String>,
    ) -> Result<(), PasswordChangeError> {
        let (user, hash) = self
            .accounts
            .credentials_by_id(principal.user_id)
            .await?
            .filter(|(u, _)| u.is_active)
            .ok_or(AuthError::Unauthenticated)?;
        let ok = match Password::presented(current) {
            Some(current) => self.hasher.verify(current, Some(hash)).await?,
            None => false,
        };
        if !ok {
            return Err(PasswordChangeError::WrongPassword);
        }
        let password_hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        let audit = AuditRecord {
            actor: Some(user.id),
            action: AuditAction::PasswordChanged,
            object_type: "user",
            object_id: Some(user.id.0),
            at: now,
            client_addr,
        };
        self.accounts
            .set_password(
                user.id,
                password_hash,
                principal.session.clone(),
                now,
                audit,
            )
            .await?;
        // Sockets of the other sessions and of tokens must close; the one session kept reconnects
        // by itself (its credential still holds).
        self.events.disconnect(user.id, None);
        Ok(())
    }

    /// Mints a single-use WebSocket ticket (by hash) for the principal, tied to its credential:
    /// redeeming it later checks the account and, for a browser session, that the session is
    /// still open.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn mint_ticket(
        &self,
        principal: &Principal,
        ticket_hash: String,
    ) -> Result<TicketRecord, StoreError> {
        let ticket = TicketRecord {
            ticket_hash,
            user_id: principal.user_id,
            credential_version: principal.credential_version,
            session: principal.session.clone(),
            expires_at: self.clock.now() + self.policy.ticket_ttl,
        };
        self.accounts.insert_ws_ticket(ticket.clone()).await?;
        Ok(ticket)
    }

    async fn open(&self, user: UserId, grant: Grant, now: DateTime<Utc>) -> Result<(), StoreError> {
        match grant {
            Grant::Session(key) => {
                self.accounts
                    .insert_session(SessionRecord {
                        id_hash: key.0,
                        user_id: user,
                        created_at: now,
                        last_seen_at: now,
                        revoked_at: None,
                    })
                    .await
            }
            Grant::Tokens {
                refresh_hash,
                family,
            } => {
                self.accounts
                    .insert_refresh_token(RefreshTokenRecord {
                        token_hash: refresh_hash,
                        user_id: user,
                        family,
                        issued_at: now,
                        expires_at: now + self.policy.refresh_ttl,
                    })
                    .await
            }
        }
    }
}
