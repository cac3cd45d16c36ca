//! Response bodies, in the field names of the seed systems' documents. No body carries another
//! user's email address (System A leaked them in thread lists and events).

use chrono::{DateTime, Utc};
use messaging_domain::message::{MessageView, ThreadSummary};
use serde::Serialize;

/// A message (System A's `MessageResponse`, without the email fields, plus System B's subject and
/// parent).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageResponse {
    pub id: i64,
    pub conversation_id: i64,
    pub sender_id: i64,
    pub sender_username: String,
    pub sender_first_name: String,
    pub sender_last_name: String,
    pub recipient_id: i64,
    pub recipient_username: String,
    pub recipient_first_name: String,
    pub recipient_last_name: String,
    pub message: String,
    pub subject: Option<String>,
    pub booking_id: Option<i64>,
    pub parent_message_id: Option<i64>,
    pub is_read: bool,
    pub is_edited: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub edited_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Files sent with the message (listed in thread history; absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentResponse>,
}

impl From<MessageView> for MessageResponse {
    fn from(view: MessageView) -> Self {
        let m = view.message;
        let updated_at = m.edited_at.unwrap_or(m.created_at).max(m.created_at);
        Self {
            id: m.id.0,
            conversation_id: m.conversation_id.0,
            sender_id: view.sender.id.0,
            sender_username: view.sender.username,
            sender_first_name: view.sender.first_name,
            sender_last_name: view.sender.last_name,
            recipient_id: view.recipient.id.0,
            recipient_username: view.recipient.username,
            recipient_first_name: view.recipient.first_name,
            recipient_last_name: view.recipient.last_name,
            is_read: m.read_at.is_some(),
            is_edited: m.edited_at.is_some(),
            message: m.body,
            subject: m.subject,
            booking_id: m.booking_id.map(|b| b.0),
            parent_message_id: m.parent_id.map(|p| p.0),
            read_at: m.read_at,
            edited_at: m.edited_at,
            created_at: m.created_at,
            updated_at,
            attachments: Vec::new(),
        }
    }
}

/// One thread of the thread list (System A's shape, without `other_user_email`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThreadResponse {
    pub conversation_id: i64,
    pub other_user_id: i64,
    pub other_user_username: String,
    pub other_user_first_name: String,
    pub other_user_last_name: String,
    pub other_user_role: &'static str,
    pub booking_id: Option<i64>,
    pub last_message_id: i64,
    pub last_message: String,
    pub last_message_time: DateTime<Utc>,
    pub last_sender_id: i64,
    pub unread_count: i64,
}

impl From<ThreadSummary> for ThreadResponse {
    fn from(t: ThreadSummary) -> Self {
        Self {
            conversation_id: t.conversation_id.0,
            other_user_id: t.other_user.id.0,
            other_user_username: t.other_user.username,
            other_user_first_name: t.other_user.first_name,
            other_user_last_name: t.other_user.last_name,
            other_user_role: t.other_user.role.as_str(),
            booking_id: t.booking_id.map(|b| b.0),
            last_message_id: t.last_message_id.0,
            last_message: t.last_message,
            last_message_time: t.last_message_at,
            last_sender_id: t.last_sender_id.0,
            unread_count: t.unread_count,
        }
    }
}

/// System B's answer to a send, a reply or a clinician message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SentResponse {
    pub message_id: i64,
    pub conversation_id: i64,
    pub status: &'static str,
    pub recipient: String,
    pub subject: Option<String>,
    pub timestamp: DateTime<Utc>,
}

impl From<MessageView> for SentResponse {
    fn from(view: MessageView) -> Self {
        Self {
            message_id: view.message.id.0,
            conversation_id: view.message.conversation_id.0,
            status: "sent",
            recipient: view.recipient.username,
            subject: view.message.subject,
            timestamp: view.message.created_at,
        }
    }
}

/// The first `max` characters of a body, for list previews (System B cuts at 100).
#[must_use]
pub fn preview(body: &str, max: usize) -> String {
    let mut chars = body.chars();
    let cut: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// An attachment as clients see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentResponse {
    pub id: i64,
    pub message_id: i64,
    /// The display name (sanitised; never a path).
    pub filename: String,
    /// The type detected from the file's contents.
    pub mime_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// `pending`, `clean`, `infected` or `not_scanned`.
    pub scan_status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<messaging_domain::attachment::Attachment> for AttachmentResponse {
    fn from(a: messaging_domain::attachment::Attachment) -> Self {
        Self {
            id: a.id.0,
            message_id: a.message_id.0,
            filename: a.file_name.as_str().to_owned(),
            mime_type: a.kind.mime_type().to_owned(),
            size: a.size,
            width: a.dimensions.map(|d| d.0),
            height: a.dimensions.map(|d| d.1),
            scan_status: a.scan_status.as_str().to_owned(),
            created_at: a.created_at,
        }
    }
}

/// Reads a JSON number that is a whole number into an `i64`: `7` and `7.0` alike, as JSON Schema's
/// `integer` allows (and generated clients send), but not `7.5` or a number out of range.
///
/// # Errors
/// The deserializer's error for anything else.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::Deserialize;
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    // A number written with a fraction or an exponent, or an integer outside i64 (which JSON
    // parsing turns into the nearest f64: `-9223372036854775809` becomes -2^63 exactly), is
    // taken only where every whole f64 is exact, |f| <= 2^53; past that, the value read may
    // not be the value written.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match number.as_f64() {
        // The cast cannot truncate once the fraction is zero and |f| <= 2^53.
        #[allow(clippy::cast_possible_truncation)]
        Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Ok(f as i64),
        _ => Err(D::Error::custom("expected a whole number")),
    }
}

/// [`whole_number`] for an optional field (`null` or absent is `None`).
///
/// # Errors
/// The deserializer's error for anything else.
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Whole(#[serde(deserialize_with = "super::whole_number")] i64);

    fn read(json: &str) -> Option<i64> {
        serde_json::from_str::<Whole>(json).ok().map(|w| w.0)
    }

    /// Every value taken is the value written; a number that JSON parsing could only round (out
    /// of i64, or a float past 2^53) is refused rather than read as a neighbour.
    #[test]
    fn whole_numbers_are_read_exactly_or_refused() {
        assert_eq!(read("7"), Some(7));
        assert_eq!(read("7.0"), Some(7));
        assert_eq!(read("-7e0"), Some(-7));
        assert_eq!(read("9223372036854775807"), Some(i64::MAX));
        assert_eq!(read("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(read("9007199254740992.0"), Some(9_007_199_254_740_992));
        for refused in [
            "7.5",
            "-9223372036854775809",
            "9223372036854775808",
            "18446744073709551616",
            "9007199254740994.0",
            "1e300",
            "\"7\"",
            "null",
        ] {
            assert_eq!(read(refused), None, "{refused}");
        }
    }
}
