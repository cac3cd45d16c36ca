//! The audit log as admins read it: which entries to list (parsed from what an admin asked for),
//! the entries as stored, and what verifying the hash chains found. The store reads and verifies
//! (`messaging_store::audit` documents the hash encoding); the domain decides who may ask and how
//! a request is read.

use chrono::{DateTime, Utc};

use crate::error::ValidationError;
use crate::text::{LimitSpec, Page, PageNumber, PageSize};
use crate::user::UserId;

/// Audit pages are read in bulk by people going through an incident, so they may be long.
pub const AUDIT_LIMIT: LimitSpec = LimitSpec {
    field: "limit",
    min: 1,
    max: 200,
    default: 50,
};

/// The longest stored action or object type name accepted as a filter.
pub const MAX_NAME_CHARS: usize = 64;

/// Which audit entries to list; a field left `None` matches every entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Entries by this actor.
    pub actor_id: Option<UserId>,
    /// Entries with this stored action name (`message.sent`, `auth.login_succeeded`, ...).
    pub action: Option<String>,
    /// Entries about this kind of object (`message`, `user`, ...).
    pub object_type: Option<String>,
    /// Entries about the object with this id.
    pub object_id: Option<i64>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries strictly before this time.
    pub until: Option<DateTime<Utc>>,
}

/// A request for one page of the audit log, as the admin sent it: it is read only once the
/// caller is known to be an admin, so that nobody else learns anything from how it is judged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries by this user.
    pub actor_id: Option<i64>,
    /// A stored action name; empty means any.
    pub action: Option<String>,
    /// A stored object type; empty means any.
    pub object_type: Option<String>,
    /// Only entries about this object.
    pub object_id: Option<i64>,
    /// Entries at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Entries before this RFC 3339 time.
    pub until: Option<String>,
    /// The 1-based page number.
    pub page: Option<i64>,
    /// Entries per page ([`AUDIT_LIMIT`]).
    pub limit: Option<i64>,
}

impl AuditQuery {
    /// The filter and the page this request names. A `since` at or after `until` is an empty
    /// range, which is not an error: it lists nothing, like any range with nothing in it.
    ///
    /// # Errors
    /// [`ValidationError`] naming the first parameter that cannot be read.
    pub fn parse(self) -> Result<(AuditFilter, Page), ValidationError> {
        let page = Page {
            number: PageNumber::parse(self.page)?,
            size: PageSize::parse(self.limit, AUDIT_LIMIT)?,
        };
        let filter = AuditFilter {
            since: time(self.since.as_deref(), "since")?,
            until: time(self.until.as_deref(), "until")?,
            actor_id: self.actor_id.map(UserId),
            action: name(self.action, "action")?,
            object_type: name(self.object_type, "object_type")?,
            object_id: self.object_id,
        };
        Ok((filter, page))
    }
}

/// One stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id; ids grow in the order entries were chained, with gaps where a transaction rolled
    /// back.
    pub id: i64,
    /// Who acted; `None` for an anonymous attempt.
    pub actor_id: Option<UserId>,
    /// What was done, by its stored name.
    pub action: String,
    /// The kind of object acted on.
    pub object_type: String,
    /// The object's id, when it has one.
    pub object_id: Option<i64>,
    /// The client's address, as the server saw it.
    pub client_addr: Option<String>,
    /// When, to the microsecond.
    pub at: DateTime<Utc>,
    /// The previous entry's hash; `None` only for entries written before the chain existed.
    pub prev_hash: Option<String>,
    /// This entry's hash; `None` only for entries written before the chain existed.
    pub hash: Option<String>,
}

/// What walking the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// How many chained entries were recomputed and matched, up to the first break.
    pub checked: u64,
    /// How many entries were written before the chain existed; it cannot vouch for them.
    pub unsealed: u64,
    /// The first entry at which the chain breaks, if it does.
    pub broken: Option<ChainBreak>,
}

impl AuditVerification {
    /// Whether every chained entry matched.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's contents no longer match its hash: it was changed after it was written.
    Changed {
        /// The entry.
        id: i64,
    },
    /// The entry is intact but its `prev_hash` is not the hash of the entry before it: an entry
    /// between the two was removed (or the one before was rewritten along with its hash).
    FollowsRemoved {
        /// The entry after the gap.
        id: i64,
    },
}

impl ChainBreak {
    /// The entry at which the chain breaks.
    #[must_use]
    pub fn id(&self) -> i64 {
        match self {
            Self::Changed { id } | Self::FollowsRemoved { id } => *id,
        }
    }
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Changed { id } => write!(f, "entry {id} was changed after it was written"),
            Self::FollowsRemoved { id } => write!(
                f,
                "entry {id} does not follow the entry before it: an entry before it was removed"
            ),
        }
    }
}

/// An optional RFC 3339 time, exactly (as the document's `date-time` format says).
fn time(raw: Option<&str>, field: &'static str) -> Result<Option<DateTime<Utc>>, ValidationError> {
    match raw {
        None => Ok(None),
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| ValidationError::Malformed {
                field,
                reason: "an RFC 3339 time such as 2026-11-21T09:30:00Z",
            }),
    }
}

/// An optional stored name (`message.sent`); an empty parameter counts as absent.
fn name(raw: Option<String>, field: &'static str) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::TooLong {
            field,
            max: MAX_NAME_CHARS,
        });
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_'))
    {
        return Err(ValidationError::Malformed {
            field,
            reason: "lower-case letters, digits, '.' and '_' only",
        });
    }
    Ok(Some(raw))
}
