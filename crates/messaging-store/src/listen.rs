//! What a PostgreSQL store hears from other instances (and itself): wake-ups for committed stream
//! entries, and fleeting events.

use messaging_domain::event::{StreamEvent, StreamSeq};
use messaging_domain::user::UserId;

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// These users' streams reached these numbers (committed, readable now).
    Appended(Vec<(UserId, StreamSeq)>),
    /// A fleeting event, as the instance that raised it encoded it.
    Live(String),
}

/// `user:seq` pairs separated by spaces: short enough that a change's entries always fit in one
/// notification (PostgreSQL allows 8000 bytes).
pub(crate) fn encode_positions(appended: &[StreamEvent]) -> String {
    appended
        .iter()
        .map(|e| format!("{}:{}", e.user_id.0, e.seq))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The pairs of [`encode_positions`]; anything unreadable is skipped (a listener catches up from
/// the stream anyway).
pub(crate) fn decode_positions(payload: &str) -> Vec<(UserId, StreamSeq)> {
    payload
        .split(' ')
        .filter_map(|pair| {
            let (user, seq) = pair.split_once(':')?;
            Some((UserId(user.parse().ok()?), seq.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use chrono::DateTime;
    use messaging_domain::event::DomainEvent;
    use messaging_domain::message::MessageId;

    use super::*;

    #[test]
    fn positions_survive_the_round_trip_and_garbage_is_skipped() {
        let event = Arc::new(DomainEvent::MessageRead {
            message_id: MessageId(1),
            sender_id: UserId(2),
            reader_id: UserId(3),
            read_at: DateTime::UNIX_EPOCH,
        });
        let entries: Vec<StreamEvent> = [(2, 7), (3, 12)]
            .into_iter()
            .map(|(user, seq)| StreamEvent {
                user_id: UserId(user),
                seq,
                at: DateTime::UNIX_EPOCH,
                event: Arc::clone(&event),
            })
            .collect();
        let payload = encode_positions(&entries);
        assert_eq!(payload, "2:7 3:12");
        assert_eq!(
            decode_positions(&payload),
            vec![(UserId(2), 7), (UserId(3), 12)]
        );
        assert_eq!(decode_positions("x:1 4:y 5:6 :"), vec![(UserId(5), 6)]);
    }
}
