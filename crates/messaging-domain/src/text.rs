//! Validated input: message bodies, subjects, search queries and page bounds. Each type can only be
//! built by its `parse` function, so a value that exists has passed its rules.

use crate::error::ValidationError;
use crate::user::Role;

#[cfg(test)]
mod tests;

/// No message body may be longer than this, whatever the role (System B's limit).
pub const ABSOLUTE_MAX_BODY_CHARS: usize = 10_000;
/// Subjects are limited like System B's `VARCHAR(255)` column.
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Shortest search query (System A).
pub const MIN_QUERY_CHARS: usize = 2;
/// Longest search query (System B).
pub const MAX_QUERY_CHARS: usize = 200;

/// Trims, and removes control characters except line breaks and tabs, which people type on purpose.
/// Inner whitespace is kept as typed, so multi-line messages keep their shape.
#[must_use]
pub fn clean_multiline(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Trims, and turns every control character (line breaks included) into a space: for one-line fields.
#[must_use]
pub fn clean_single_line(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A cleaned, non-empty message body of at most [`ABSOLUTE_MAX_BODY_CHARS`] characters. The
/// sender's role may allow less; see [`BodyPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    /// Cleans `raw` and checks it is neither empty nor over the absolute limit.
    ///
    /// # Errors
    /// [`ValidationError::Empty`] or [`ValidationError::TooLong`] for the field `message`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::parse_field(raw, "message")
    }

    /// Like [`MessageText::parse`], naming the field as the caller's API does (`content`, `message`).
    ///
    /// # Errors
    /// [`ValidationError::Empty`] or [`ValidationError::TooLong`].
    pub fn parse_field(raw: &str, field: &'static str) -> Result<Self, ValidationError> {
        let cleaned = clean_multiline(raw);
        if cleaned.is_empty() {
            return Err(ValidationError::Empty { field });
        }
        // What was sent counts, before cleaning: the limit a client reads in the API's schema is
        // the one it gets.
        if raw.chars().count() > ABSOLUTE_MAX_BODY_CHARS {
            return Err(ValidationError::TooLong {
                field,
                max: ABSOLUTE_MAX_BODY_CHARS,
            });
        }
        Ok(Self(cleaned))
    }

    /// The text itself.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Length in characters (not bytes).
    #[must_use]
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }

    /// The masked form, when masking changes anything. Length limits apply to what the sender
    /// typed; a replacement such as `[external link removed]` may make the stored body slightly
    /// longer.
    #[must_use]
    pub(crate) fn masked_if_changed(&self) -> Option<Self> {
        let masked = crate::masking::mask_pii(&self.0);
        (masked != self.0).then_some(Self(masked))
    }

    /// Gives the text up.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// How long a body each role may send: short chat messages on the tutoring side (System A),
/// longer letters on the clinical side (System B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPolicy {
    /// Students and tutors.
    pub tutoring_max: usize,
    /// Patients.
    pub patient_max: usize,
    /// Clinicians and admins.
    pub staff_max: usize,
}

impl Default for BodyPolicy {
    fn default() -> Self {
        Self {
            tutoring_max: 2_000,
            // System B's current code lets patients write as much as clinicians.
            patient_max: ABSOLUTE_MAX_BODY_CHARS,
            staff_max: ABSOLUTE_MAX_BODY_CHARS,
        }
    }
}

impl BodyPolicy {
    /// The longest body a sender with this role may send.
    #[must_use]
    pub fn max_for(&self, role: Role) -> usize {
        let max = match role {
            Role::Student | Role::Tutor => self.tutoring_max,
            Role::Patient => self.patient_max,
            Role::Clinician | Role::Admin => self.staff_max,
        };
        max.min(ABSOLUTE_MAX_BODY_CHARS)
    }

    /// Checks a body against the sender's limit.
    ///
    /// # Errors
    /// [`ValidationError::TooLong`] when the body exceeds the role's limit.
    pub fn check(
        &self,
        role: Role,
        text: &MessageText,
        field: &'static str,
    ) -> Result<(), ValidationError> {
        let max = self.max_for(role);
        if text.char_len() > max {
            return Err(ValidationError::TooLong { field, max });
        }
        Ok(())
    }
}

/// An optional one-line subject of at most [`MAX_SUBJECT_CHARS`] characters (System B).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    /// Cleans `raw`; an empty subject is no subject.
    ///
    /// # Errors
    /// [`ValidationError::TooLong`] for the field `subject`.
    pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
        // What was sent counts, before cleaning (see `MessageText::parse_field`).
        if raw.chars().count() > MAX_SUBJECT_CHARS {
            return Err(ValidationError::TooLong {
                field: "subject",
                max: MAX_SUBJECT_CHARS,
            });
        }
        let cleaned = clean_single_line(raw);
        if cleaned.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self(cleaned)))
    }

    /// The subject of a reply: `"Re: "` and the parent's subject, or `"Re: No Subject"` (System B).
    /// A parent subject that already starts with `Re:` (any case) is not prefixed again, and the result is cut
    /// to the subject limit.
    #[must_use]
    pub fn reply_to(parent: Option<&str>) -> Self {
        let base = parent.unwrap_or("No Subject");
        let already_reply = base.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("re:"));
        let text = if already_reply {
            base.to_owned()
        } else {
            format!("Re: {base}")
        };
        Self(text.chars().take(MAX_SUBJECT_CHARS).collect())
    }

    /// The subject itself.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form, when masking changes anything (the other party reads the subject as
    /// they read the body). The length limit applies to what the sender typed.
    #[must_use]
    pub(crate) fn masked_if_changed(&self) -> Option<Self> {
        let masked = crate::masking::mask_pii(&self.0);
        (masked != self.0).then_some(Self(masked))
    }

    /// Gives the subject up.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The client's own id for a message it sends (an `Idempotency-Key` header or a `client_message_id`
/// field): 1 to 128 characters of letters, digits, `.`, `_`, `:` and `-`. A send that repeats an id
/// the sender already used returns the message created the first time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientMessageId(String);

impl ClientMessageId {
    /// Checks `raw`.
    ///
    /// # Errors
    /// [`ValidationError`] for the field `client_message_id`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let field = "client_message_id";
        if raw.is_empty() {
            return Err(ValidationError::Empty { field });
        }
        if raw.len() > 128 {
            return Err(ValidationError::TooLong { field, max: 128 });
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
        {
            return Err(ValidationError::Malformed {
                field,
                reason: "letters, digits, '.', '_', ':' and '-' only",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A search query: cleaned, 2 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    /// Cleans and checks `raw`.
    ///
    /// # Errors
    /// [`ValidationError::TooShort`] or [`ValidationError::TooLong`] for the field `q`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let cleaned = clean_single_line(raw);
        if cleaned.chars().count() < MIN_QUERY_CHARS {
            return Err(ValidationError::TooShort {
                field: "q",
                min: MIN_QUERY_CHARS,
            });
        }
        // What was sent counts, before cleaning (see `MessageText::parse_field`).
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(ValidationError::TooLong {
                field: "q",
                max: MAX_QUERY_CHARS,
            });
        }
        Ok(Self(cleaned))
    }

    /// The query itself.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The query's words, as [`words`] reads them. Punctuation is never passed to a search
    /// engine, so no query syntax can be injected. A message matches when each term is the
    /// beginning of one of its words (`budg` finds "budget").
    #[must_use]
    pub fn terms(&self) -> Vec<String> {
        words(&self.0).collect()
    }
}

/// The longest word kept for search, in characters; longer ones are cut to it (in messages and
/// queries alike, so a long word is still found by its beginning).
pub const MAX_WORD_CHARS: usize = 64;

/// The words of a text as search reads them, in both messages and queries: runs of letters and
/// digits (Unicode's), lower-cased, cut to [`MAX_WORD_CHARS`]. Everything else separates words,
/// so `SECRET-27993725` is the words `secret` and `27993725`, and `room101` is one word. Both
/// databases index these words as given, so they find the same messages.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(MAX_WORD_CHARS).collect())
}

/// The words of a message's subject and body, space-separated: what the store indexes.
#[must_use]
pub fn message_words(subject: Option<&str>, body: &str) -> String {
    words(subject.unwrap_or_default())
        .chain(words(body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The bounds of one listing's page size: its range and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSpec {
    /// The name of the query parameter.
    pub field: &'static str,
    /// Smallest accepted value.
    pub min: u32,
    /// Largest accepted value.
    pub max: u32,
    /// Used when the parameter is absent.
    pub default: u32,
}

impl LimitSpec {
    /// System A's thread list: `limit` 1..=200, default 100.
    pub const THREADS: LimitSpec = LimitSpec {
        field: "limit",
        min: 1,
        max: 200,
        default: 100,
    };
    /// System A's conversation history: `page_size` 1..=100, default 50.
    pub const HISTORY: LimitSpec = LimitSpec {
        field: "page_size",
        min: 1,
        max: 100,
        default: 50,
    };
    /// System A's search: `page_size` 1..=50, default 20.
    pub const SEARCH: LimitSpec = LimitSpec {
        field: "page_size",
        min: 1,
        max: 50,
        default: 20,
    };
    /// System B's form of the search page size: `limit` 1..=50, default 20.
    pub const SEARCH_LIMIT: LimitSpec = LimitSpec {
        field: "limit",
        min: 1,
        max: 50,
        default: 20,
    };
    /// System B's inbox and sent lists: `limit` 1..=50, default 20.
    pub const INBOX: LimitSpec = LimitSpec {
        field: "limit",
        min: 1,
        max: 50,
        default: 20,
    };
    /// System B's conversation: `limit` 1..=200, default 50.
    pub const CONVERSATION: LimitSpec = LimitSpec {
        field: "limit",
        min: 1,
        max: 200,
        default: 50,
    };
}

/// A page size inside its listing's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    /// Checks a submitted page size; absent means the default.
    ///
    /// # Errors
    /// [`ValidationError::OutOfRange`] when outside the spec's bounds.
    pub fn parse(value: Option<i64>, spec: LimitSpec) -> Result<Self, ValidationError> {
        match value {
            None => Ok(Self(spec.default)),
            Some(v) if v >= i64::from(spec.min) && v <= i64::from(spec.max) => {
                Ok(Self(u32::try_from(v).unwrap_or(spec.default)))
            }
            Some(_) => Err(ValidationError::OutOfRange {
                field: spec.field,
                min: i64::from(spec.min),
                max: i64::from(spec.max),
            }),
        }
    }

    /// System B's lenient reading: anything outside the bounds becomes the default.
    #[must_use]
    pub fn or_default(value: Option<i64>, spec: LimitSpec) -> Self {
        Self::parse(value, spec).unwrap_or(Self(spec.default))
    }

    /// The size.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A 1-based page number, capped so that no request can ask the store to skip millions of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber(u32);

impl PageNumber {
    /// The highest page number accepted.
    pub const MAX: u32 = 10_000;

    /// Checks a submitted page number; absent means the first page.
    ///
    /// # Errors
    /// [`ValidationError::OutOfRange`] for the field `page`.
    pub fn parse(value: Option<i64>) -> Result<Self, ValidationError> {
        match value {
            None => Ok(Self(1)),
            Some(v) if v >= 1 && v <= i64::from(Self::MAX) => {
                Ok(Self(u32::try_from(v).unwrap_or(1)))
            }
            Some(_) => Err(ValidationError::OutOfRange {
                field: "page",
                min: 1,
                max: i64::from(Self::MAX),
            }),
        }
    }

    /// The first page.
    #[must_use]
    pub fn first() -> Self {
        Self(1)
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A page of a listing: which page and how large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The 1-based page number.
    pub number: PageNumber,
    /// How many items a page holds.
    pub size: PageSize,
}

impl Page {
    /// How many items come before this page.
    #[must_use]
    pub fn offset(&self) -> i64 {
        i64::from(self.number.get() - 1) * i64::from(self.size.get())
    }

    /// How many items this page holds at most.
    #[must_use]
    pub fn limit(&self) -> i64 {
        i64::from(self.size.get())
    }
}
