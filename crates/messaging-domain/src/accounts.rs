//! Account data: user names and email addresses as typed at registration.

use crate::error::ValidationError;
use crate::user::Role;

/// A login name: 3 to 32 characters of ASCII letters, digits, `_`, `.` and `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Checks `raw` (after trimming).
    ///
    /// # Errors
    /// [`ValidationError`] for the field `username`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let len = name.chars().count();
        if len < 3 {
            return Err(ValidationError::TooShort {
                field: "username",
                min: 3,
            });
        }
        if len > 32 {
            return Err(ValidationError::TooLong {
                field: "username",
                max: 32,
            });
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(ValidationError::Malformed {
                field: "username",
                reason: "only letters, digits, '_', '.' and '-' are allowed",
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// Checks a name chosen for a new account: [`Username::parse`]'s shape, and not itself a
    /// contact detail. Names are shown as typed to everyone (System B's routes address people by
    /// them), so a name the masking rule would hide in a message (`5551234567`, `jdoe.me`,
    /// `john.doe@x`) could carry what masking keeps back. Existing names are not re-checked: they
    /// still log in.
    ///
    /// # Errors
    /// [`ValidationError`] for the field `username`.
    pub fn parse_new(raw: &str) -> Result<Self, ValidationError> {
        let name = Self::parse(raw)?;
        if crate::masking::mask_pii(name.as_str()) != name.as_str() {
            return Err(ValidationError::Malformed {
                field: "username",
                reason: "a user name must not be a phone number, a domain or a handle",
            });
        }
        Ok(name)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address of a plausible shape, lower-cased, at most 254 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl std::fmt::Debug for EmailAddress {
    // Email addresses are personal data; they never reach a log through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

impl EmailAddress {
    /// Checks `raw` (after trimming).
    ///
    /// # Errors
    /// [`ValidationError`] for the field `email`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 {
            return Err(ValidationError::TooLong {
                field: "email",
                max: 254,
            });
        }
        let malformed = ValidationError::Malformed {
            field: "email",
            reason: "expected an address like name@example.com",
        };
        let Some((local, domain)) = email.split_once('@') else {
            return Err(malformed);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'));
        if local.is_empty()
            || local.chars().any(|c| c.is_whitespace() || c.is_control())
            || !domain_ok
        {
            return Err(malformed);
        }
        Ok(Self(email))
    }

    /// The address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name part (first or last name): one line, at most 100 characters, possibly empty.
///
/// # Errors
/// [`ValidationError::TooLong`] for the given field.
pub fn parse_name(raw: Option<&str>, field: &'static str) -> Result<String, ValidationError> {
    let name = crate::text::clean_single_line(raw.unwrap_or(""));
    if name.chars().count() > 100 {
        return Err(ValidationError::TooLong { field, max: 100 });
    }
    Ok(name)
}

/// A new account, validated, with its password already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The login name.
    pub username: Username,
    /// The email address.
    pub email: EmailAddress,
    /// A PHC-format password hash (argon2id); never the password itself.
    pub password_hash: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// The role the account starts with.
    pub role: Role,
}

/// A password as typed, checked against the policy (8 to 128 characters). Its `Debug` never shows
/// it, and it is only ever handed to a [`crate::ports::PasswordHasher`].
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// The fewest characters a new password may have.
    pub const MIN: usize = 8;
    /// The most characters a password may have (argon2 takes any length, but a bound keeps a
    /// request's cost bounded).
    pub const MAX: usize = 128;

    /// Checks a new password against the policy.
    ///
    /// # Errors
    /// [`ValidationError`] for the given field (`password`, `new_password`).
    pub fn parse_new(raw: String, field: &'static str) -> Result<Self, ValidationError> {
        let length = raw.chars().count();
        if length < Self::MIN {
            return Err(ValidationError::TooShort {
                field,
                min: Self::MIN,
            });
        }
        if length > Self::MAX {
            return Err(ValidationError::TooLong {
                field,
                max: Self::MAX,
            });
        }
        Ok(Self(raw))
    }

    /// A password presented to log in (or to confirm a change). No policy applies beyond the upper
    /// bound: an old password that a later policy would refuse must still log in. A longer one
    /// cannot match any stored hash, so it is `None` and never hashed.
    #[must_use]
    pub fn presented(raw: String) -> Option<Self> {
        (raw.chars().count() <= Self::MAX).then_some(Self(raw))
    }

    /// The password itself; only a hasher reads it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// What authentication needs to know of an account, read on every authenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStatus {
    /// The account's current role (not the one a token was issued with).
    pub role: Role,
    /// Whether the account may act at all.
    pub active: bool,
    /// Raised whenever every credential issued so far must stop working (deactivation, a password
    /// change); an access token or ticket carries the version it was issued under.
    pub credential_version: i64,
}

/// A browser session: the cookie's id is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey(pub String);

/// Who an authenticated request or socket acts as, decided by
/// [`crate::service::accounts::AccountService::authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: crate::user::UserId,
    /// Their role now.
    pub role: Role,
    /// The account's credential version now (a ticket minted for this principal carries it).
    pub credential_version: i64,
    /// The browser session behind the credential, if it came from one (a session cookie, or a
    /// ticket minted through one): logging out of it ends what it opened.
    pub session: Option<SessionKey>,
    /// When the credential stops holding, where the domain knows it (a session's absolute
    /// lifetime); an access token's own expiry is known to the adapter that checked it.
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// A credential whose form the adapter has checked (signature, expiry), for the domain to decide
/// whether the account behind it may act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A signed access token naming a user and the credential version it was issued under.
    AccessToken {
        /// The user it names.
        user_id: crate::user::UserId,
        /// The account's credential version at issue.
        version: i64,
    },
    /// A browser session, by the hash of its id.
    Session(SessionKey),
    /// A single-use WebSocket ticket, by the hash of the ticket.
    Ticket(String),
}

/// A WebSocket ticket as stored: its hash, never the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    /// SHA-256 of the ticket, hex.
    pub ticket_hash: String,
    /// Who may redeem it.
    pub user_id: crate::user::UserId,
    /// The account's credential version when it was minted.
    pub credential_version: i64,
    /// The browser session it was minted through, if any.
    pub session: Option<SessionKey>,
    /// When it stops being redeemable.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests;
