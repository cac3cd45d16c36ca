//! Accounts and what a login opens: credentials, browser sessions, refresh-token families with
//! reuse detection, and single-use WebSocket tickets.

use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::{AccountStatus, NewAccount, TicketRecord};
use messaging_domain::audit::AuditRecord;
use messaging_domain::ports::{RefreshOutcome, RefreshTokenRecord, SessionRecord};
use messaging_domain::user::{User, UserId};

use crate::state::{Account, RefreshRow, State, TicketRow, Violation};
use crate::{Duplicate, duplicate};

impl State {
    /// Creates an active account; the audit record is filed under the new user.
    pub(crate) fn create_account(
        &mut self,
        account: NewAccount,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        // Login names are unique whatever their case, as the databases' `lower(username)`
        // index makes them; addresses are stored lower-cased already.
        let name = account.username.as_str().to_lowercase();
        if self
            .users
            .values()
            .any(|a| a.user.username.to_lowercase() == name)
        {
            return Err(duplicate(Duplicate::Username));
        }
        if self
            .users
            .values()
            .any(|a| a.user.email == account.email.as_str())
        {
            return Err(duplicate(Duplicate::Email));
        }
        let id = self.last_id.user();
        let user = User {
            id,
            username: account.username.as_str().to_owned(),
            email: account.email.as_str().to_owned(),
            first_name: account.first_name,
            last_name: account.last_name,
            role: account.role,
            is_active: true,
        };
        self.users.insert(
            id,
            Account {
                user: user.clone(),
                password_hash: account.password_hash,
                credential_version: 0,
            },
        );
        self.audit(AuditRecord {
            actor: Some(id),
            object_id: Some(id.0),
            ..audit
        });
        Ok(user)
    }

    /// A user and their password hash, by login name whatever its case.
    pub(crate) fn credentials(&self, username: &str) -> Option<(User, String)> {
        let name = username.to_lowercase();
        self.users
            .values()
            .find(|a| a.user.username.to_lowercase() == name)
            .map(|a| (a.user.clone(), a.password_hash.clone()))
    }

    /// A user and their password hash, by id.
    pub(crate) fn credentials_by_id(&self, user: UserId) -> Option<(User, String)> {
        self.users
            .get(&user)
            .map(|a| (a.user.clone(), a.password_hash.clone()))
    }

    /// Replaces a password hash; every other credential of the user stops working.
    pub(crate) fn set_password(
        &mut self,
        user: UserId,
        password_hash: String,
        keep: Option<&str>,
        now: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError> {
        let account = self.users.get_mut(&user).ok_or(StoreError::NotFound)?;
        account.password_hash = password_hash;
        account.credential_version += 1;
        self.revoke_credentials(user, keep, now);
        self.audit(audit);
        Ok(())
    }

    /// Whether an account may act, in what role, and which credentials still hold.
    pub(crate) fn account_status(&self, user: UserId) -> Option<AccountStatus> {
        self.users.get(&user).map(|a| AccountStatus {
            role: a.user.role,
            active: a.user.is_active,
            credential_version: a.credential_version,
        })
    }

    /// Stores a new browser session.
    pub(crate) fn insert_session(&mut self, session: SessionRecord) -> Result<(), StoreError> {
        self.require_user(session.user_id)?;
        if self.sessions.contains_key(&session.id_hash) {
            return Err(StoreError::backend(Violation("session id already stored")));
        }
        self.sessions.insert(
            session.id_hash.clone(),
            SessionRecord {
                revoked_at: None,
                ..session
            },
        );
        Ok(())
    }

    /// Records that a session was used at `now`.
    pub(crate) fn touch_session(&mut self, id_hash: &str, now: DateTime<Utc>) {
        if let Some(session) = self.sessions.get_mut(id_hash) {
            session.last_seen_at = now;
        }
    }

    /// Closes a session; the first close time stays.
    pub(crate) fn revoke_session(&mut self, id_hash: &str, now: DateTime<Utc>) {
        if let Some(session) = self.sessions.get_mut(id_hash) {
            session.revoked_at.get_or_insert(now);
        }
    }

    /// Stores a refresh token in its family.
    pub(crate) fn insert_refresh_token(
        &mut self,
        token: RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        self.require_user(token.user_id)?;
        if self.refresh_tokens.contains_key(&token.token_hash) {
            return Err(StoreError::backend(Violation(
                "refresh token already stored",
            )));
        }
        self.refresh_tokens.insert(
            token.token_hash,
            RefreshRow {
                user_id: token.user_id,
                family: token.family,
                expires_at: token.expires_at,
                used_at: None,
                revoked_at: None,
            },
        );
        Ok(())
    }

    /// Consumes a refresh token: a valid one is used up, a used one revokes its whole family.
    pub(crate) fn consume_refresh_token(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> RefreshOutcome {
        let Some(row) = self.refresh_tokens.get(token_hash).cloned() else {
            return RefreshOutcome::Invalid;
        };
        // A revoked family stays revoked: a token stored in it afterwards (by a request that
        // won a race against the reuse that revoked it) is refused too.
        let family_revoked = self
            .refresh_tokens
            .values()
            .any(|t| t.family == row.family && t.revoked_at.is_some());
        if family_revoked {
            return RefreshOutcome::Invalid;
        }
        if row.used_at.is_some() {
            // A used token came back: someone holds a copy, so neither copy may work any more.
            self.revoke_family(&row.family, now);
            return RefreshOutcome::Reused {
                user_id: row.user_id,
            };
        }
        if row.expires_at <= now {
            return RefreshOutcome::Invalid;
        }
        if let Some(token) = self.refresh_tokens.get_mut(token_hash) {
            token.used_at = Some(now);
        }
        RefreshOutcome::Valid {
            user_id: row.user_id,
            family: row.family,
        }
    }

    /// Revokes the family of the token (by hash); returns whether the token was found.
    pub(crate) fn revoke_refresh_family(&mut self, token_hash: &str, now: DateTime<Utc>) -> bool {
        let Some(family) = self
            .refresh_tokens
            .get(token_hash)
            .map(|t| t.family.clone())
        else {
            return false;
        };
        self.revoke_family(&family, now);
        true
    }

    fn revoke_family(&mut self, family: &str, now: DateTime<Utc>) {
        for token in self.refresh_tokens.values_mut() {
            if token.family == family && token.revoked_at.is_none() {
                token.revoked_at = Some(now);
            }
        }
    }

    /// Stores a WebSocket ticket.
    pub(crate) fn insert_ticket(&mut self, ticket: TicketRecord) -> Result<(), StoreError> {
        self.require_user(ticket.user_id)?;
        if self.tickets.contains_key(&ticket.ticket_hash) {
            return Err(StoreError::backend(Violation("ticket already stored")));
        }
        self.tickets.insert(
            ticket.ticket_hash.clone(),
            TicketRow {
                record: ticket,
                used: false,
            },
        );
        Ok(())
    }

    /// Redeems a ticket once, before it expires; expired tickets are swept on the way.
    pub(crate) fn redeem_ticket(
        &mut self,
        ticket_hash: &str,
        now: DateTime<Utc>,
    ) -> Option<TicketRecord> {
        let redeemed = match self.tickets.get_mut(ticket_hash) {
            Some(ticket) if !ticket.used && ticket.record.expires_at > now => {
                ticket.used = true;
                Some(ticket.record.clone())
            }
            _ => None,
        };
        self.tickets.retain(|_, t| t.record.expires_at > now);
        redeemed
    }
}
