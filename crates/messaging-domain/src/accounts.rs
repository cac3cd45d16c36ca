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
